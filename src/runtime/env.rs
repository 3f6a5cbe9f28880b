//! `SHARDIO_*` environment variables: a [`Config`] without code, the way
//! Seastar takes its options from the command line.
//!
//! Each variable is named after the `Config` method it calls, with the unit
//! of a duration in its name. An empty variable counts as unset. A setting
//! the code made (any setter called) is left alone: the code says
//! otherwise.

use std::fmt::Display;
use std::io;
use std::str::FromStr;
use std::time::Duration;

use super::config::{self, Config};

impl Config {
    /// The default configuration with the `SHARDIO_*` environment
    /// variables applied (see [`with_env`](Config::with_env)).
    ///
    /// # Errors
    ///
    /// A variable whose value is not valid: the error names the variable,
    /// its value and an example.
    pub fn from_env() -> io::Result<Self> {
        Self::default().with_env()
    }

    /// Applies the `SHARDIO_*` environment variables to the settings this
    /// `Config` leaves at their defaults; a setting the code made (any
    /// setter called) stays. [`BuilderExt::shardio`](crate::BuilderExt::shardio),
    /// `#[shardio::main]` and `#[shardio::test]` do this unless
    /// [`use_env(false)`](Config::use_env). An empty variable is unset.
    ///
    /// | variable | calls |
    /// |---|---|
    /// | `SHARDIO_RING_ENTRIES=512` | [`ring_entries`](Config::ring_entries) |
    /// | `SHARDIO_ASYNC_WORKERS=2-3` | [`async_workers`](Config::async_workers) |
    /// | `SHARDIO_SQ_POLL_IDLE_MS=2` | [`sq_poll_idle`](Config::sq_poll_idle) |
    /// | `SHARDIO_IOWQ_MAX_WORKERS=8,512` | [`iowq_max_workers`](Config::iowq_max_workers) |
    /// | `SHARDIO_PIN_WORKERS=0-1` | [`pin_workers`](Config::pin_workers) |
    /// | `SHARDIO_STALL_THRESHOLD_MS=10` | [`stall_threshold`](Config::stall_threshold) |
    /// | `SHARDIO_STALL_REPORTS_PER_MINUTE=5` | [`stall_reports_per_minute`](Config::stall_reports_per_minute) |
    /// | `SHARDIO_SPIN_BEFORE_PARK_US=50` | [`spin_before_park`](Config::spin_before_park) |
    /// | `SHARDIO_STORAGE_SUBMIT_BATCH=1` | [`storage_submit_batch`](Config::storage_submit_batch) |
    /// | `SHARDIO_IO_PROPERTIES=/etc/io.yaml` | [`io_properties_file`](Config::io_properties_file) |
    /// | `SHARDIO_IO_LATENCY_GOAL_US=750` | [`io_latency_goal`](Config::io_latency_goal) |
    /// | `SHARDIO_IO_INFLIGHT_CAP=32` | [`io_inflight_cap`](Config::io_inflight_cap) |
    ///
    /// (`SHARDIO_FORCE_FALLBACK=1` is read once per process, for every
    /// runtime; see [`force_fallback`](Config::force_fallback).)
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// // With SHARDIO_STORAGE_SUBMIT_BATCH=8 in the environment this batches
    /// // 8 file operations; the ring size stays the code's.
    /// let config = shardio::Config::default().ring_entries(1024)?.with_env()?;
    /// # drop(config);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// A variable whose value is not valid: the error names the variable,
    /// its value and an example.
    pub fn with_env(self) -> io::Result<Self> {
        apply(self, |name| std::env::var(name).ok())
    }

    /// Whether [`BuilderExt::shardio`](crate::BuilderExt::shardio) (and so
    /// `#[shardio::main]` / `#[shardio::test]`) applies the `SHARDIO_*`
    /// environment variables to the settings this `Config` leaves at their
    /// defaults (see [`with_env`](Config::with_env)); `true` by default.
    /// `false`: the code's configuration is the whole configuration.
    pub fn use_env(mut self, apply: bool) -> Self {
        self.use_env = apply;
        self
    }
}

/// A variable: its name, the setting it fills, an example value, and how
/// it applies its value.
struct Var {
    name: &'static str,
    bit: u32,
    example: &'static str,
    apply: fn(Config, &'static str, &str) -> io::Result<Config>,
}

/// Every variable, in the order they are applied.
const VARS: [Var; 12] = [
    Var {
        name: "SHARDIO_RING_ENTRIES",
        bit: config::RING_ENTRIES,
        example: "512",
        apply: |c, name, v| c.ring_entries(number(name, v, "512")?),
    },
    Var {
        name: "SHARDIO_ASYNC_WORKERS",
        bit: config::ASYNC_WORKERS,
        example: "0",
        apply: |c, _, v| c.async_workers(v),
    },
    Var {
        name: "SHARDIO_SQ_POLL_IDLE_MS",
        bit: config::SQ_POLL_IDLE,
        example: "2",
        apply: |c, name, v| c.sq_poll_idle(Duration::from_millis(number(name, v, "2")?)),
    },
    Var {
        name: "SHARDIO_IOWQ_MAX_WORKERS",
        bit: config::IOWQ_MAX_WORKERS,
        example: "8,512",
        apply: |c, name, v| {
            let bad = || {
                invalid(
                    name,
                    v,
                    "two numbers, bounded and unbounded workers",
                    "8,512",
                )
            };
            let (bounded, unbounded) = v.split_once(',').ok_or_else(bad)?;
            let bounded = bounded.trim().parse().map_err(|_| bad())?;
            let unbounded = unbounded.trim().parse().map_err(|_| bad())?;
            c.iowq_max_workers(bounded, unbounded)
        },
    },
    Var {
        name: "SHARDIO_PIN_WORKERS",
        bit: config::PIN_WORKERS,
        example: "0",
        apply: |c, _, v| c.pin_workers(v),
    },
    Var {
        name: "SHARDIO_STALL_THRESHOLD_MS",
        bit: config::STALL_THRESHOLD,
        example: "10",
        apply: |c, name, v| c.stall_threshold(Duration::from_millis(number(name, v, "10")?)),
    },
    Var {
        name: "SHARDIO_STALL_REPORTS_PER_MINUTE",
        bit: config::STALL_REPORTS_PER_MINUTE,
        example: "5",
        apply: |c, name, v| Ok(c.stall_reports_per_minute(number(name, v, "5")?)),
    },
    Var {
        name: "SHARDIO_SPIN_BEFORE_PARK_US",
        bit: config::SPIN_BEFORE_PARK,
        example: "50",
        apply: |c, name, v| c.spin_before_park(Duration::from_micros(number(name, v, "50")?)),
    },
    Var {
        name: "SHARDIO_STORAGE_SUBMIT_BATCH",
        bit: config::STORAGE_SUBMIT_BATCH,
        example: "1",
        apply: |c, name, v| c.storage_submit_batch(number(name, v, "1")?),
    },
    Var {
        name: "SHARDIO_IO_PROPERTIES",
        bit: config::IO_PROPERTIES,
        example: "/etc/shardio/io_properties.yaml",
        apply: |c, _, v| c.io_properties_file(v),
    },
    Var {
        name: "SHARDIO_IO_LATENCY_GOAL_US",
        bit: config::IO_LATENCY_GOAL,
        example: "750",
        apply: |c, name, v| c.io_latency_goal(Duration::from_micros(number(name, v, "750")?)),
    },
    Var {
        name: "SHARDIO_IO_INFLIGHT_CAP",
        bit: config::IO_INFLIGHT_CAP,
        example: "32",
        apply: |c, name, v| c.io_inflight_cap(number(name, v, "32")?),
    },
];

/// Applies the variables `get` finds to the settings `config`'s code left
/// alone. An error names the variable, its value and what it takes.
pub(crate) fn apply(
    mut config: Config,
    get: impl Fn(&str) -> Option<String>,
) -> io::Result<Config> {
    for var in &VARS {
        if config.set_by_code & var.bit != 0 {
            continue;
        }
        let Some(value) = get(var.name).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        let value = value.trim();
        config = (var.apply)(config, var.name, value).map_err(|e| {
            // Setter errors say what is wrong with the value; add where it
            // came from (parse errors already name the variable).
            if e.to_string().contains(var.name) {
                e
            } else {
                io::Error::new(
                    e.kind(),
                    format!(
                        "{}={value}: {e} (the variable is read by shardio::Config::with_env; \
                         e.g. {}={})",
                        var.name, var.name, var.example
                    ),
                )
            }
        })?;
    }
    Ok(config)
}

fn number<T: FromStr>(name: &str, value: &str, example: &str) -> io::Result<T>
where
    T::Err: Display,
{
    value
        .parse()
        .map_err(|_| invalid(name, value, "a whole number", example))
}

fn invalid(name: &str, value: &str, what: &str, example: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "shardio: {name}={value} is not valid: it takes {what}, e.g. {name}={example}; \
             unset it to use the default"
        ),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn with(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn variables_fill_the_settings_the_code_left_alone() {
        let config = apply(
            Config::default().ring_entries(64).unwrap(),
            with(&[
                ("SHARDIO_RING_ENTRIES", "1024"),
                ("SHARDIO_STORAGE_SUBMIT_BATCH", "8"),
                ("SHARDIO_SPIN_BEFORE_PARK_US", "50"),
                ("SHARDIO_IOWQ_MAX_WORKERS", "4, 64"),
                ("SHARDIO_IO_INFLIGHT_CAP", " 16 "),
                ("SHARDIO_ASYNC_WORKERS", ""),
            ]),
        )
        .unwrap();
        assert_eq!(config.ring.sq_entries, 64, "the code's value stays");
        assert_eq!(config.ring.storage_submit_batch, 8);
        assert_eq!(config.spin_before_park, Duration::from_micros(50));
        assert_eq!(config.ring.iowq_max_workers, Some([4, 64]));
        assert_eq!(config.sched.as_ref().unwrap().inflight_cap, 16);
        assert!(config.async_workers.is_none(), "empty is unset");
    }

    #[test]
    fn a_bad_value_is_an_error_naming_the_variable_and_an_example() {
        for (name, value) in [
            ("SHARDIO_RING_ENTRIES", "lots"),
            ("SHARDIO_RING_ENTRIES", "0"),
            ("SHARDIO_ASYNC_WORKERS", "99999"),
            ("SHARDIO_IOWQ_MAX_WORKERS", "8"),
            ("SHARDIO_SPIN_BEFORE_PARK_US", "-1"),
            ("SHARDIO_STORAGE_SUBMIT_BATCH", "0"),
            ("SHARDIO_IO_PROPERTIES", "/nonexistent/io.yaml"),
            ("SHARDIO_IO_LATENCY_GOAL_US", "1"),
        ] {
            let err = apply(Config::default(), with(&[(name, value)])).unwrap_err();
            let text = err.to_string();
            assert!(text.contains(name), "{name}={value}: {text}");
            assert!(text.contains(value), "{name}={value}: {text}");
        }
    }

    #[test]
    fn every_variable_is_named_after_a_config_method() {
        for Var { name, example, .. } in &VARS {
            let (name, example) = (*name, *example);
            assert!(name.starts_with("SHARDIO_"), "{name}");
            // Each example is a value the variable accepts (the file one
            // aside, which must exist).
            if name != "SHARDIO_IO_PROPERTIES" && name != "SHARDIO_STALL_THRESHOLD_MS" {
                apply(Config::default(), with(&[(name, example)]))
                    .unwrap_or_else(|e| panic!("{name}={example}: {e}"));
            }
        }
    }
}
