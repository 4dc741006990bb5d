//! The Redis trigger: one subscriber connection per server address; each message on a channel
//! runs every component subscribed to it (concurrently, each in a fresh instance), and the next
//! message is read once they have all finished.
//!
//! Follows spinframework/spin `crates/trigger-redis/src/lib.rs`: addresses and channels are
//! resolved from templates before any subscriber starts, a handler error is logged and the
//! message dropped (Redis pub/sub has no redelivery), and losing the connection ends the trigger
//! with an error.

use std::{collections::HashMap, sync::Arc};

use anyhow::{Context, Result, bail};
use futures::StreamExt;

use crate::{bindings::redis_trigger::RedisTriggerPre, engine::Runtime};

/// Channel name -> the components subscribed to it.
pub type ChannelComponents = HashMap<String, Vec<String>>;

/// The subscribers of one application, by server address.
pub struct RedisTrigger {
    runtime: Arc<Runtime>,
    servers: HashMap<String, ChannelComponents>,
    handlers: HashMap<String, RedisTriggerPre<crate::state::HostState>>,
}

impl RedisTrigger {
    /// `subscriptions` are resolved `(address, channel, component)` triples.
    pub fn new(
        runtime: Arc<Runtime>,
        subscriptions: Vec<(String, String, String)>,
    ) -> Result<Self> {
        let mut servers: HashMap<String, ChannelComponents> = HashMap::new();
        let mut handlers = HashMap::new();
        for (address, channel, component_id) in subscriptions {
            let component = runtime.component(&component_id)?;
            let pre = RedisTriggerPre::new(component.pre.clone())
                .map_err(anyhow::Error::from)
                .with_context(|| {
                    format!("component `{component_id}` does not export fermyon:spin/inbound-redis")
                })?;
            handlers.insert(component_id.clone(), pre);
            servers
                .entry(address)
                .or_default()
                .entry(channel)
                .or_default()
                .push(component_id);
        }
        Ok(Self {
            runtime,
            servers,
            handlers,
        })
    }

    /// Subscribes to every channel and then handles messages until a connection is lost.
    /// Returns once all subscriptions are in place via `ready`.
    pub async fn run(self: Arc<Self>, ready: tokio::sync::oneshot::Sender<()>) -> Result<()> {
        let mut tasks = Vec::new();
        let mut subscribed = Vec::new();
        for (address, channels) in &self.servers {
            let (tx, rx) = tokio::sync::oneshot::channel();
            subscribed.push(rx);
            tasks.push(tokio::spawn(self.clone().listen(
                address.clone(),
                channels.clone(),
                tx,
            )));
        }
        for rx in subscribed {
            // A subscriber that fails to connect drops its sender; its task holds the error.
            if rx.await.is_err() {
                break;
            }
        }
        let _ = ready.send(());
        if tasks.is_empty() {
            return std::future::pending().await;
        }
        let (result, _, _) = futures::future::select_all(tasks).await;
        result?
    }

    async fn listen(
        self: Arc<Self>,
        address: String,
        channels: ChannelComponents,
        subscribed: tokio::sync::oneshot::Sender<()>,
    ) -> Result<()> {
        let client = redis::Client::open(address.as_str())
            .with_context(|| format!("invalid Redis address {address:?}"))?;
        let mut pubsub = client
            .get_async_pubsub()
            .await
            .with_context(|| format!("Redis trigger failed to connect to {address}"))?;
        for (channel, components) in &channels {
            pubsub.subscribe(channel).await.with_context(|| {
                format!("Redis trigger failed to subscribe to channel {channel:?} on {address}")
            })?;
            tracing::info!("{address}/{channel}: [{}]", components.join(","));
        }
        let _ = subscribed.send(());

        let mut messages = pubsub.on_message();
        while let Some(msg) = messages.next().await {
            let channel = msg.get_channel_name().to_owned();
            let payload = msg.get_payload_bytes().to_vec();
            let Some(components) = channels.get(&channel) else {
                tracing::error!("message from unexpected channel {channel:?}");
                continue;
            };
            let runs = components.iter().map(|id| {
                let payload = payload.clone();
                let this = &self;
                async move {
                    if let Err(err) = this.dispatch(id, payload).await {
                        tracing::info!("Component {id} handler failed: {err:#}");
                    }
                }
            });
            futures::future::join_all(runs).await;
        }
        bail!("disconnected from {address}")
    }

    async fn dispatch(&self, component_id: &str, payload: Vec<u8>) -> Result<()> {
        let component = self.runtime.component(component_id)?;
        let pre = &self.handlers[component_id];
        let mut store = self.runtime.new_store(component);
        let guest = pre.instantiate_async(&mut store).await?;
        guest
            .fermyon_spin_inbound_redis()
            .call_handle_message(&mut store, &payload)
            .await?
            .map_err(|err| anyhow::anyhow!("{err:?}"))
            .context("Redis handler returned an error")
    }
}
