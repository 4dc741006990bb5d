//! Loads an application (manifest, variables, runtime config), selects its components, and runs
//! its triggers: command triggers first, to completion, then HTTP, Redis and cron together.

use std::{collections::BTreeSet, net::SocketAddr, path::PathBuf, sync::Arc};

use anyhow::{Context, Result, bail};
use tokio::net::TcpListener;

use crate::{
    allowed_hosts::AllowedHosts,
    command_trigger,
    cron_trigger::CronJob,
    engine::{ComponentSpec, Limits, Runtime},
    http_trigger::HttpTrigger,
    manifest::{App, HttpRoute},
    redis_trigger::RedisTrigger,
    runtime_config::RuntimeConfig,
    state::ComponentRuntime,
    variables::{EnvProvider, Provider, Resolver},
};

/// What `spin-host up` was asked to do.
#[derive(Debug, Clone)]
pub struct UpOptions {
    /// Path of `spin.toml`.
    pub manifest: PathBuf,
    /// Where the HTTP trigger listens.
    pub listen: SocketAddr,
    /// Optional runtime config file.
    pub runtime_config: Option<PathBuf>,
    /// Selective deployment: run only these components (all when empty).
    pub component_ids: Vec<String>,
}

/// A loaded application, ready to run.
pub struct Application {
    app: App,
    resolver: Resolver,
    selected: BTreeSet<String>,
    runtime: Arc<Runtime>,
}

impl Application {
    /// Reads and validates everything, then compiles the selected components.
    pub async fn load(options: &UpOptions) -> Result<Self> {
        let app = App::from_file(&options.manifest)?;
        app.check_host_requirements()?;
        for warning in &app.warnings {
            tracing::warn!("{warning}");
        }
        let mut providers: Vec<Box<dyn Provider>> = Vec::new();
        match &options.runtime_config {
            Some(path) => {
                let config = RuntimeConfig::from_file(path)?;
                providers.extend(config.variables_providers()?);
            }
            None => providers.push(Box::new(EnvProvider::from_process_env())),
        }
        let resolver = Resolver::new(&app, providers)?;

        let selected: BTreeSet<String> = if options.component_ids.is_empty() {
            app.components.keys().cloned().collect()
        } else {
            for id in &options.component_ids {
                if !app.components.contains_key(id) {
                    bail!("--component-id {id}: the manifest has no component `{id}`");
                }
            }
            options.component_ids.iter().cloned().collect()
        };

        let mut specs = Vec::new();
        for id in &selected {
            let decl = &app.components[id];
            let variables = resolver.component_variables(id)?;
            let allowed_hosts = AllowedHosts::parse(&decl.allowed_outbound_hosts, &resolver)
                .with_context(|| format!("component `{id}`: invalid allowed_outbound_hosts"))?;
            specs.push(ComponentSpec {
                runtime: ComponentRuntime {
                    id: id.clone(),
                    variables,
                    allowed_hosts,
                },
                source: decl.source.clone(),
                environment: decl
                    .environment
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            });
        }
        let runtime = Arc::new(Runtime::load(specs, Limits::default()).await?);
        Ok(Self {
            app,
            resolver,
            selected,
            runtime,
        })
    }

    /// The compiled components.
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// Runs the command-trigger components, in manifest order.
    pub async fn run_commands(&self) -> Result<usize> {
        let mut ran = 0;
        for trigger in &self.app.command_triggers {
            if self.selected.contains(&trigger.component) {
                command_trigger::run(&self.runtime, &trigger.component).await?;
                ran += 1;
            }
        }
        Ok(ran)
    }

    /// Whether any long-running trigger (HTTP, Redis, cron) is selected.
    pub fn has_long_running_triggers(&self) -> bool {
        let selected = |id: &String| self.selected.contains(id);
        self.app
            .http_triggers
            .iter()
            .any(|t| selected(&t.component))
            || self
                .app
                .redis_triggers
                .iter()
                .any(|t| selected(&t.component))
            || self
                .app
                .cron_triggers
                .iter()
                .any(|t| selected(&t.component))
    }

    /// Starts the HTTP, Redis and cron triggers. Returns once the HTTP listener is bound and
    /// every Redis subscription is in place, with the address bound and a future that runs the
    /// triggers until one of them fails.
    pub async fn start(
        &self,
        listen: SocketAddr,
    ) -> Result<(
        SocketAddr,
        impl std::future::Future<Output = Result<()>> + use<>,
    )> {
        let mut tasks: Vec<tokio::task::JoinHandle<Result<()>>> = Vec::new();

        let mut routes = Vec::new();
        let mut private = Vec::new();
        for trigger in &self.app.http_triggers {
            if !self.selected.contains(&trigger.component) {
                continue;
            }
            match &trigger.route {
                HttpRoute::Route(route) => routes.push((route.clone(), trigger.component.clone())),
                HttpRoute::Private => private.push(trigger.component.clone()),
            }
        }
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("unable to listen on {listen}"))?;
        let local_addr = listener.local_addr()?;
        if !routes.is_empty() || !private.is_empty() {
            let http = HttpTrigger::new(
                self.runtime.clone(),
                self.app.name.clone(),
                &routes,
                &private,
            )?;
            for (route, component) in &routes {
                println!("  {component}: http://{local_addr}{route}");
            }
            tasks.push(tokio::spawn(http.serve(listener)));
        }

        let mut subscriptions = Vec::new();
        for trigger in &self.app.redis_triggers {
            if !self.selected.contains(&trigger.component) {
                continue;
            }
            let address = match &trigger.address {
                Some(address) => self.resolver.resolve_template(address)?,
                None => bail!(
                    "redis trigger for `{}` has no address (set `address` on the trigger)",
                    trigger.component
                ),
            };
            let channel = self.resolver.resolve_template(&trigger.channel)?;
            subscriptions.push((address, channel, trigger.component.clone()));
        }
        if !subscriptions.is_empty() {
            let redis = Arc::new(RedisTrigger::new(self.runtime.clone(), subscriptions)?);
            let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
            let task = tokio::spawn(redis.run(ready_tx));
            if ready_rx.await.is_err() {
                return Err(task.await?.unwrap_err());
            }
            tasks.push(task);
        }

        for trigger in &self.app.cron_triggers {
            if !self.selected.contains(&trigger.component) {
                continue;
            }
            let job = CronJob::new(&self.runtime, &trigger.component, &trigger.cron_expression)
                .with_context(|| format!("cron trigger for `{}`", trigger.component))?;
            tasks.push(tokio::spawn(job.run(self.runtime.clone())));
        }

        let run = async move {
            if tasks.is_empty() {
                return Ok(());
            }
            let (result, _, _) = futures::future::select_all(tasks).await;
            result?
        };
        Ok((local_addr, run))
    }
}

/// `spin-host up`: run commands, then serve until a trigger fails or the process is stopped.
pub async fn up(options: UpOptions) -> Result<()> {
    let app = Application::load(&options).await?;
    let ran = app.run_commands().await?;
    if !app.has_long_running_triggers() {
        if ran == 0 {
            bail!("nothing to run: the selected components have no triggers");
        }
        return Ok(());
    }
    let (addr, run) = app.start(options.listen).await?;
    println!("Serving http://{addr}");
    tokio::select! {
        result = run => result,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}
