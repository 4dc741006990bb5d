//! The Wasmtime engine, the linker with every host interface, and the compiled, pre-instantiated
//! components of an application.
//!
//! Spin creates a fresh instance for every request, message and tick. Doing that cheaply needs
//! two things, both set up here once: `InstancePre` (imports resolved ahead of time) and the
//! pooling allocator (instance memory reused from a pool instead of mmapped per instance).

use std::{collections::HashMap, path::Path, sync::Arc};

use anyhow::{Context, Result};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, StoreLimitsBuilder,
    component::{Component, HasSelf, InstancePre, Linker},
};
use wasmtime_wasi::WasiCtxBuilder;

use crate::state::{ComponentRuntime, HostState, Services};

/// Limits applied to every instance. Spin sizes its pool from environment variables with
/// similar defaults; these are ours, documented in the README.
#[derive(Debug, Clone)]
pub struct Limits {
    /// How many component instances may be alive at once (per host process).
    pub max_instances: u32,
    /// The largest linear memory an instance may grow to.
    pub max_memory_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_instances: env_u32("SPIN_HOST_MAX_INSTANCES", 128),
            max_memory_bytes: env_u32("SPIN_HOST_MAX_MEMORY_MIB", 256) as usize * 1024 * 1024,
        }
    }
}

fn env_u32(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Builds the engine: async (host calls await I/O), component model, and the pooling
/// allocator when the machine lets us reserve its address space (falling back to on-demand
/// allocation with a warning rather than refusing to run).
pub fn build_engine(limits: &Limits) -> Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);

    let mut pool = PoolingAllocationConfig::default();
    // A component instance holds a handful of core instances (the main module plus adapter
    // shims), each with at most one memory and a few tables.
    pool.total_component_instances(limits.max_instances)
        .total_core_instances(limits.max_instances * 8)
        .total_memories(limits.max_instances * 2)
        .total_tables(limits.max_instances * 8)
        .max_memory_size(limits.max_memory_bytes)
        .max_memories_per_component(4)
        .max_tables_per_component(16)
        .max_core_instances_per_component(32);
    let mut pooled = config.clone();
    pooled.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    match Engine::new(&pooled) {
        Ok(engine) => Ok(engine),
        Err(err) => {
            tracing::warn!("pooling allocator unavailable ({err:#}); allocating on demand");
            Ok(Engine::new(&config)?)
        }
    }
}

/// The linker every component is instantiated with: WASI 0.2 (CLI and HTTP) plus the Spin
/// interfaces in `crate::bindings`.
pub fn build_linker(engine: &Engine) -> Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    crate::bindings::Host_::add_to_linker::<_, HasSelf<HostState>>(&mut linker, |state| state)?;
    Ok(linker)
}

/// One component of the application, compiled and linked.
pub struct LoadedComponent {
    /// Resolved configuration shared by every instance.
    pub runtime: Arc<ComponentRuntime>,
    /// Imports resolved once; instantiation only allocates.
    pub pre: InstancePre<HostState>,
    /// `[component.X] environment`.
    pub environment: Vec<(String, String)>,
}

/// Everything needed to create instances of any of the application's components.
pub struct Runtime {
    /// The shared engine.
    pub engine: Engine,
    /// Components by id.
    pub components: HashMap<String, LoadedComponent>,
    /// Application-wide clients (database pools, Redis connections, service chaining).
    pub services: Arc<Services>,
    limits: Limits,
}

/// What is needed to load one component.
pub struct ComponentSpec {
    /// The resolved configuration.
    pub runtime: ComponentRuntime,
    /// Path of the `.wasm` file.
    pub source: std::path::PathBuf,
    /// Environment variables set in the manifest.
    pub environment: Vec<(String, String)>,
}

impl Runtime {
    /// Compiles and links every component. Compilation runs on blocking threads in parallel.
    pub async fn load(specs: Vec<ComponentSpec>, limits: Limits) -> Result<Self> {
        let engine = build_engine(&limits)?;
        let linker = Arc::new(build_linker(&engine)?);
        let mut tasks = Vec::new();
        for spec in specs {
            let engine = engine.clone();
            let linker = linker.clone();
            tasks.push(tokio::task::spawn_blocking(move || {
                let component = compile(&engine, &spec.source).with_context(|| {
                    format!(
                        "loading component `{}` from {}",
                        spec.runtime.id,
                        spec.source.display()
                    )
                })?;
                let pre = linker
                    .instantiate_pre(&component)
                    .map_err(anyhow::Error::from)
                    .with_context(|| {
                        format!(
                            "component `{}` imports an interface this host does not provide",
                            spec.runtime.id
                        )
                    })?;
                anyhow::Ok(LoadedComponent {
                    runtime: Arc::new(spec.runtime),
                    pre,
                    environment: spec.environment,
                })
            }));
        }
        let mut components = HashMap::new();
        for task in tasks {
            let loaded = task.await??;
            components.insert(loaded.runtime.id.clone(), loaded);
        }
        Ok(Self {
            engine,
            components,
            services: Arc::new(Services::default()),
            limits,
        })
    }

    /// The loaded component with this id.
    pub fn component(&self, id: &str) -> Result<&LoadedComponent> {
        self.components
            .get(id)
            .with_context(|| format!("no component `{id}` is loaded"))
    }

    /// A fresh store for one invocation of `component`, as Spin makes one per request.
    pub fn new_store(&self, component: &LoadedComponent) -> Store<HostState> {
        let mut wasi = WasiCtxBuilder::new();
        // Spin sends a component's stdout/stderr to the host's (or to log files with
        // `--log-dir`); components log with println!/eprintln!.
        wasi.inherit_stdout().inherit_stderr();
        for (key, value) in &component.environment {
            wasi.env(key, value);
        }
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.limits.max_memory_bytes)
            .build();
        let state = HostState::new(
            wasi.build(),
            component.runtime.clone(),
            self.services.clone(),
            limits,
        );
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limits);
        store
    }
}

/// Compiles a component, reusing a native-code cache file beside it when the `.wasm` has not
/// changed (compiling a component takes a noticeable fraction of a second; tests start many
/// hosts).
fn compile(engine: &Engine, source: &Path) -> Result<Component> {
    let bytes = std::fs::read(source)?;
    let cache = cache_path(engine, source, &bytes);
    if let Some(cache) = &cache
        && let Ok(serialized) = std::fs::read(cache)
    {
        // SAFETY: the file was written by `Component::serialize` from this same engine
        // configuration (its name includes a hash of the wasm bytes and of the engine's
        // compatibility fingerprint), and wasmtime checks that fingerprint again on load.
        if let Ok(component) = unsafe { Component::deserialize(engine, &serialized) } {
            return Ok(component);
        }
    }
    let component = Component::new(engine, &bytes)?;
    if let Some(cache) = cache
        && let Ok(serialized) = component.serialize()
    {
        let tmp = cache.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, serialized).is_ok() {
            let _ = std::fs::rename(&tmp, &cache);
        }
    }
    Ok(component)
}

fn cache_path(engine: &Engine, source: &Path, bytes: &[u8]) -> Option<std::path::PathBuf> {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let dir = source.parent()?.join(".spin-host-cache");
    std::fs::create_dir_all(&dir).ok()?;
    let stem = source.file_stem()?.to_string_lossy();
    Some(dir.join(format!("{stem}-{:016x}.cwasm", hasher.finish())))
}
