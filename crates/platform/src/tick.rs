//! HTTP tick routes (`POST /ticks/<component>`), called by a Dapr cron binding or a Kubernetes
//! CronJob where there is no cron trigger. They run the same library function as the cron
//! export, and like every internal route they need the caller to present the `tick_token`
//! ([`crate::internal::authorize`]).

use std::fmt::Display;

use serde::Serialize;
use spin_sdk::http::{Request, Response};

use crate::problem::Problem;

/// `POST /ticks/<component>`: checks the token, runs `run` once, and answers its report as JSON
/// (200), or a 500 whose cause is logged under `component`.
pub fn route<R: Serialize, E: Display>(
    component: &str,
    req: &Request,
    run: impl FnOnce() -> Result<R, E>,
) -> Response {
    if let Err(problem) = crate::internal::authorize(req) {
        return problem.into();
    }
    match run() {
        Ok(report) => crate::response::json(200, &report),
        Err(err) => {
            crate::log::error(component, &format!("tick failed: {err}"), &[]);
            Problem::new(500).into()
        }
    }
}

/// `OPTIONS /ticks/<component>`: Dapr asks this of every input binding's route when the sidecar
/// starts, and only delivers the binding's events to an app that answers something other than
/// 404. It reveals nothing, so it needs no token.
pub fn binding_probe() -> spin_sdk::http::Response {
    spin_sdk::http::Response::builder()
        .status(204)
        .header("allow", "POST, OPTIONS")
        .build()
}

/// Exports a component's tick to the cron trigger (`fermyon:spin-cron`, bound from the
/// workspace's `wit/spin-cron` with `wit-bindgen`, which the component must depend on):
/// `platform::cron_tick!(crate::tick::run());` runs the expression on every tick, and an `Err`
/// (anything `Display`) fails that tick. Only on WebAssembly: natively there is no export.
///
/// The same function serves the authenticated HTTP tick route ([`route`]), so the cron
/// trigger (`spin up`, the test host) and Dapr's cron binding (clusters) run one code path.
#[macro_export]
macro_rules! cron_tick {
    ($run:expr) => {
        #[cfg(target_arch = "wasm32")]
        mod cron {
            //! The cron trigger's export, from `platform::cron_tick!`.
            wit_bindgen::generate!({ world: "spin-cron", path: "../../wit/spin-cron" });

            struct Tick;

            impl Guest for Tick {
                fn handle_cron_event(_: Metadata) -> Result<(), Error> {
                    $run.map(|_| ()).map_err(|err| Error::Other(err.to_string()))
                }
            }

            export!(Tick);
        }
    };
}
