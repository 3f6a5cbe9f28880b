//! A real database client on shardio's sockets: the `redis` crate's async
//! `MultiplexedConnection` over a `shardio::net::TcpStream` (no adapter:
//! the stream is Tokio's `AsyncRead + AsyncWrite`), against a real
//! `redis-server` that each test starts on a free loopback port.
//!
//! Without `redis-server` on `PATH` the tests print why and pass, except in
//! CI (`CI` set), where they fail naming Debian's package (`.ci/run`
//! installs it).

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, AsyncTypedCommands, RedisConnectionInfo};
use shardio::net::TcpStream;
use shardio::sched::PriorityClass;

#[path = "support/redis_server.rs"]
mod redis_server;
use redis_server::RedisServer;

type Result<T = (), E = Box<dyn std::error::Error + Send + Sync>> = std::result::Result<T, E>;

async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("test timed out after 60 s")
}

/// The redis client's connection over `stream`; its driver task (which
/// does all of the socket's reads and writes) is spawned by `spawn`.
async fn connect(
    stream: TcpStream,
    spawn: impl FnOnce(std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>),
) -> Result<MultiplexedConnection> {
    stream.set_nodelay(true)?;
    // `new_with_config`, not `new`: its driver future is `'static`, so it
    // can be spawned (`new`'s borrows the connection info).
    let (con, driver) = MultiplexedConnection::new_with_config(
        &RedisConnectionInfo::default(),
        stream,
        // No response timeout (500 ms by default): a loaded CI machine must
        // not fail the test; `bounded` catches a hang.
        AsyncConnectionConfig::new().set_response_timeout(None),
    )
    .await?;
    spawn(Box::pin(driver));
    Ok(con)
}

/// A mix of real commands: SET/GET, INCR from concurrent tasks sharing the
/// multiplexed connection, a pipeline, MGET of many keys, a 1 MiB value.
/// Returns the bytes of the large value's round trip (SET then GET).
async fn commands(con: &mut MultiplexedConnection, prefix: &str, big_len: usize) -> Result<usize> {
    let key = |name: &str| format!("{prefix}:{name}");

    con.set(key("greeting"), "hello from shardio").await?;
    assert_eq!(
        con.get(key("greeting")).await?.as_deref(),
        Some("hello from shardio")
    );
    assert_eq!(con.get(key("absent")).await?, None);

    // 16 tasks × 100 INCRs on one connection: the client multiplexes them
    // over the one socket.
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let mut con = con.clone();
        let counter = key("counter");
        tasks.push(tokio::spawn(async move {
            for _ in 0..100 {
                con.incr(&counter, 1).await?;
            }
            redis::RedisResult::Ok(())
        }));
    }
    for t in tasks {
        t.await.expect("INCR task")?;
    }
    assert_eq!(con.incr(key("counter"), 0).await?, 1600);

    // A pipeline: 200 commands in one write, replies read back in order.
    let mut pipe = redis::pipe();
    for i in 0..100 {
        pipe.set(key(&format!("p{i}")), i).ignore();
    }
    for i in 0..100 {
        pipe.incr(key(&format!("p{i}")), 1000);
    }
    let incremented: Vec<i64> = pipe.query_async(con).await?;
    assert_eq!(incremented, (1000..1100).collect::<Vec<i64>>());

    // MGET of 1000 keys (every tenth absent).
    let keys: Vec<String> = (0..1000).map(|i| key(&format!("m{i}"))).collect();
    let items: Vec<(String, String)> = keys
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 10 != 0)
        .map(|(i, k)| (k.clone(), format!("value-{i}")))
        .collect();
    con.mset(&items).await?;
    let values = con.mget(&keys).await?;
    assert_eq!(values.len(), 1000);
    for (i, v) in values.iter().enumerate() {
        let expected = (i % 10 != 0).then(|| format!("value-{i}"));
        assert_eq!(v, &expected, "MGET value {i}");
    }

    // A large value, sent and read back byte for byte.
    let big: Vec<u8> = (0..big_len).map(|i| (i % 251) as u8).collect();
    con.set(key("big"), &big[..]).await?;
    assert_eq!(con.strlen(key("big")).await?, big_len);
    let back: Vec<u8> = redis::cmd("GET").arg(key("big")).query_async(con).await?;
    assert!(back == big, "the large value came back intact");

    assert_eq!(con.del(key("big")).await?, 1);
    assert!(
        !con.exists(key("big")).await?,
        "DEL removed the large value"
    );
    Ok(2 * big_len)
}

/// The socket's own class (`set_class`): every send and receive of the
/// client's driver is charged to it.
#[shardio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_commands_on_a_socket_in_a_priority_class() -> Result {
    let Some(server) = RedisServer::start()? else {
        return Ok(());
    };
    bounded(async {
        let before = shardio::metrics();
        let class = PriorityClass::new("redis-socket", 200);
        let stream = TcpStream::connect(server.addr).await?;
        stream.set_class(&class);
        let mut con = connect(stream, |driver| {
            tokio::spawn(driver);
        })
        .await?;
        let big = commands(&mut con, "socket", 1024 * 1024).await?;

        let after = shardio::metrics();
        if after.fallback_active {
            // Sockets on the epoll fallback are not scheduled.
            assert_eq!(class.stats().ops, 0);
            return Ok(());
        }
        assert!(
            after.ops_submitted > before.ops_submitted,
            "the client's receives went through io_uring: {} -> {} ops submitted",
            before.ops_submitted,
            after.ops_submitted
        );
        let stats = class.stats();
        assert!(
            stats.ops >= 10,
            "the client's sends and receives ran in the class: {stats:?}"
        );
        assert!(
            stats.bytes >= big as u64,
            "the 1 MiB value, sent and received, was charged to the class: {stats:?}"
        );
        assert!(stats.consumption > 0.0, "{stats:?}");
        Ok(())
    })
    .await
}

/// A scope (`class.scope`, `class.spawn`): the handshake and the commands
/// run in the class, and so does the driver task spawned into it.
#[shardio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_commands_in_a_class_scope() -> Result {
    let Some(server) = RedisServer::start()? else {
        return Ok(());
    };
    bounded(async {
        let class = PriorityClass::new("redis-scope", 100);
        let before = shardio::metrics();
        let big = class
            .scope(async {
                let stream = TcpStream::connect(server.addr).await?;
                let mut con = connect(stream, |driver| {
                    class.spawn(driver);
                })
                .await?;
                commands(&mut con, "scope", 256 * 1024).await
            })
            .await?;

        let after = shardio::metrics();
        if after.fallback_active {
            assert_eq!(class.stats().ops, 0);
            return Ok(());
        }
        assert!(after.ops_submitted > before.ops_submitted);
        let stats = class.stats();
        assert!(stats.ops >= 10, "{stats:?}");
        assert!(stats.bytes >= big as u64, "{stats:?}");
        Ok(())
    })
    .await
}
