//! `--link-mbit`: the network jobs cross a real bottleneck, a veth link
//! shaped with tc between two network namespaces (`shardio-testnet`).

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use shardio::net::TcpListener;
use shardio::sched::{NetProperties, PriorityClass};
use shardio_testnet::{Shape, ShapedLink};

use crate::job::Job;
use crate::server::serve;

pub(crate) struct Link {
    link: ShapedLink,
    mbit: u32,
}

impl Link {
    pub(crate) fn new(mbit: u32) -> io::Result<Link> {
        match ShapedLink::new(Shape::rate_mbit(mbit))? {
            Some(link) => Ok(Link { link, mbit }),
            None => Err(io::Error::other(format!(
                "--link-mbit: cannot build a shaped link here ({}); run as root with iproute2 installed",
                ShapedLink::unavailable().unwrap_or_default()
            ))),
        }
    }

    /// The jobs' end of the link.
    pub(crate) fn interface(&self) -> &str {
        self.link.a().interface()
    }

    /// A network model for the jobs' end: `factor` of what TCP carries of
    /// the link (1448 payload bytes of each 1514 on the wire), receive
    /// unthrottled.
    pub(crate) fn model(&self, factor: f64) -> NetProperties {
        let goodput = f64::from(self.mbit) * 1e6 / 8.0 * 1448.0 / 1514.0;
        let mut net = NetProperties::new(1e6, goodput, 1e6, goodput * 100.0);
        net.interface = Some(self.interface().to_owned());
        net.rate_factor = factor;
        net
    }

    /// Moves the calling thread into the jobs' namespace.
    pub(crate) fn enter_client_side(&self) -> io::Result<()> {
        self.link.a().enter()
    }

    /// Starts the jobs' server in the other namespace, on a runtime of its
    /// own; returns its address.
    pub(crate) fn start_server(
        &self,
        jobs: Vec<(PriorityClass, Job)>,
        written: Arc<[AtomicU64]>,
    ) -> io::Result<SocketAddr> {
        let (tx, rx) = mpsc::channel();
        let b = self.link.b().addr();
        // The server runs until the process exits.
        drop(self.link.b().spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async move {
                let listener = TcpListener::bind((b, 0)).await?;
                let _ = tx.send(listener.local_addr());
                serve(listener, jobs, written).await;
                io::Result::Ok(())
            })
        }));
        rx.recv_timeout(Duration::from_secs(10))
            .map_err(|_| io::Error::other("the server in the link's far namespace did not start"))?
    }
}
