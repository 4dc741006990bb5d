//! The command trigger (`[[trigger.command]]`, as SpinKube's shim and the `spin-trigger-command`
//! plugin run it): the component is a WASI command; its `wasi:cli/run` export runs once, and its
//! result is the process's success or failure.

use anyhow::{Context, Result, bail};
use wasmtime_wasi::p2::bindings::CommandPre;

use crate::engine::Runtime;

/// Runs `component_id`'s `wasi:cli/run` once.
pub async fn run(runtime: &Runtime, component_id: &str) -> Result<()> {
    let component = runtime.component(component_id)?;
    let pre = CommandPre::new(component.pre.clone())
        .map_err(anyhow::Error::from)
        .with_context(|| format!("component `{component_id}` does not export wasi:cli/run"))?;
    let mut store = runtime.new_store(component);
    let command = pre.instantiate_async(&mut store).await?;
    match command.wasi_cli_run().call_run(&mut store).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(())) => bail!("command component `{component_id}` exited with a failure status"),
        Err(err) => {
            // `std::process::exit(n)` in the guest surfaces as an `I32Exit` trap.
            if let Some(exit) = err.downcast_ref::<wasmtime_wasi::I32Exit>() {
                if exit.0 == 0 {
                    return Ok(());
                }
                bail!(
                    "command component `{component_id}` exited with status {}",
                    exit.0
                );
            }
            Err(anyhow::Error::from(err))
                .with_context(|| format!("command component `{component_id}` trapped"))
        }
    }
}
