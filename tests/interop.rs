//! Real libraries on shardio's types, each with a real server and client:
//! hyper (HTTP/1.1 and HTTP/2), axum, tonic, tokio-util codecs, tokio-rustls,
//! and the tokio::io utilities proxies and protocol code use.
//! Nothing here is adapted to shardio beyond swapping the socket types and,
//! where a library needs glue, shardio's own (`shardio::compat`, features
//! `axum`, `hyper` and `tonic`; those tests run with the features on).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use shardio::net::{TcpListener, TcpStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .expect("test timed out after 30 s")
}

/// Echoes the request body, prefixed with the method and path.
async fn echo_service(
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let head = format!("{} {} ", req.method(), req.uri().path());
    let body = req.into_body().collect().await?.to_bytes();
    let mut out = head.into_bytes();
    out.extend_from_slice(&body);
    Ok(Response::new(Full::new(Bytes::from(out))))
}

fn big_body() -> Vec<u8> {
    (0..1024 * 1024).map(|i: u32| (i % 251) as u8).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyper_http1_server_and_client() -> io::Result<()> {
    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(
                            TokioIo::new(stream),
                            hyper::service::service_fn(echo_service),
                        )
                        .await;
                });
            }
        });

        let stream = TcpStream::connect(addr).await?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(io::Error::other)?;
        tokio::spawn(conn);
        for (i, body) in [b"hello".to_vec(), Vec::new(), big_body()]
            .into_iter()
            .enumerate()
        {
            let req = Request::post(format!("http://{addr}/echo/{i}"))
                .body(Full::new(Bytes::from(body.clone())))
                .map_err(io::Error::other)?;
            // HTTP/1: one request at a time; wait until the connection is free.
            sender.ready().await.map_err(io::Error::other)?;
            let resp = sender.send_request(req).await.map_err(io::Error::other)?;
            assert!(resp.status().is_success());
            let got = resp
                .into_body()
                .collect()
                .await
                .map_err(io::Error::other)?
                .to_bytes();
            let mut expected = format!("POST /echo/{i} ").into_bytes();
            expected.extend_from_slice(&body);
            assert!(
                got[..] == expected[..],
                "response {i} differs ({} bytes)",
                got.len()
            );
        }
        server.abort();
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyper_http2_server_and_client() -> io::Result<()> {
    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .serve_connection(
                    TokioIo::new(stream),
                    hyper::service::service_fn(echo_service),
                )
                .await;
        });
        let stream = TcpStream::connect(addr).await?;
        let (sender, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await
                .map_err(io::Error::other)?;
        tokio::spawn(conn);
        // Many concurrent streams over one connection.
        let requests: Vec<_> = (0..50)
            .map(|i| {
                let mut sender = sender.clone();
                tokio::spawn(async move {
                    let req = Request::post(format!("http://{addr}/s/{i}"))
                        .body(Full::new(Bytes::from(vec![i as u8; 1000 * (i + 1)])))
                        .map_err(io::Error::other)?;
                    let resp = sender.send_request(req).await.map_err(io::Error::other)?;
                    let got = resp
                        .into_body()
                        .collect()
                        .await
                        .map_err(io::Error::other)?
                        .to_bytes();
                    let prefix = format!("POST /s/{i} ");
                    assert!(got.starts_with(prefix.as_bytes()));
                    assert_eq!(got.len(), prefix.len() + 1000 * (i + 1));
                    io::Result::Ok(())
                })
            })
            .collect();
        for r in requests {
            r.await.map_err(io::Error::other)??;
        }
        server.abort();
        Ok(())
    })
    .await
}

/// Checks, after a test's traffic, that it went through the rings: on
/// io_uring, operations were submitted, rings exist, and both the client's
/// class and the server's (the default class: its streams name none) were
/// charged, which only io_uring sockets are. On the fallback path
/// (`SHARDIO_FORCE_FALLBACK=1`) it asserts nothing about rings.
#[cfg(any(feature = "axum", feature = "hyper"))]
fn assert_through_rings(before: &shardio::Metrics, client: &shardio::sched::PriorityClass) {
    let after = shardio::metrics();
    if after.fallback_active {
        assert!(after.fallback_reason.is_some());
        return;
    }
    assert!(
        after.rings_created > 0 && !after.rings.is_empty(),
        "no ring: {after:?}"
    );
    assert!(
        after.ops_submitted > before.ops_submitted,
        "no operation went through a ring ({} before, {} after)",
        before.ops_submitted,
        after.ops_submitted
    );
    let client = client.stats();
    assert!(
        client.ops > 0 && client.bytes > 0,
        "the client's sockets were not scheduled: {client:?}"
    );
    let server = shardio::sched::PriorityClass::default_class().stats();
    assert!(
        server.ops > 0 && server.bytes > 0,
        "the server's sockets were not scheduled: {server:?}"
    );
}

/// `axum::serve` straight on a shardio listener (`compat::axum`), with
/// `ConnectInfo<SocketAddr>` and no type of the test's own.
#[cfg(feature = "axum")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_serve_on_a_shardio_listener_with_connect_info() -> io::Result<()> {
    use axum::extract::ConnectInfo;
    use axum::routing::{get, post};
    use std::net::SocketAddr;

    bounded(async {
        let client_class = shardio::sched::PriorityClass::new("axum-client", 100);
        let before = shardio::metrics();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = axum::Router::new()
            .route("/hello", get(|| async { "hello from axum on shardio" }))
            .route(
                "/whoami",
                get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
            )
            .route(
                "/len",
                post(|body: Bytes| async move { body.len().to_string() }),
            );
        let server = tokio::spawn(async move {
            axum::serve(
                shardio::compat::axum::with_connect_info(listener),
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
        });

        let stream = TcpStream::connect(addr).await?;
        stream.set_class(&client_class);
        let me = stream.local_addr()?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(io::Error::other)?;
        tokio::spawn(conn);
        let mut call = async |req: Request<Full<Bytes>>| -> io::Result<String> {
            sender.ready().await.map_err(io::Error::other)?;
            let resp = sender.send_request(req).await.map_err(io::Error::other)?;
            assert!(resp.status().is_success(), "{}", resp.status());
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(io::Error::other)?
                .to_bytes();
            Ok(String::from_utf8_lossy(&body).into_owned())
        };
        let get_req = |path: &str| {
            Request::get(format!("http://{addr}{path}"))
                .body(Full::default())
                .map_err(io::Error::other)
        };
        assert_eq!(
            call(get_req("/hello")?).await?,
            "hello from axum on shardio"
        );
        assert_eq!(call(get_req("/whoami")?).await?, me.to_string());
        let post_req = Request::post(format!("http://{addr}/len"))
            .body(Full::new(Bytes::from(big_body())))
            .map_err(io::Error::other)?;
        assert_eq!(call(post_req).await?, (1024 * 1024).to_string());
        server.abort();
        assert_through_rings(&before, &client_class);
        Ok(())
    })
    .await
}

/// The same on a shardio `UnixListener`: `ConnectInfo` with the listener's
/// own address type.
#[cfg(feature = "axum")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_serve_on_a_shardio_unix_listener() -> io::Result<()> {
    use axum::extract::ConnectInfo;
    use shardio::net::unix::SocketAddr as UnixAddr;
    use shardio::net::{UnixListener, UnixStream};

    bounded(async {
        let dir = std::env::temp_dir().join(format!("shardio-axum-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("axum.sock");
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path)?;
        let app = axum::Router::new().route(
            "/peer",
            axum::routing::get(|ConnectInfo(peer): ConnectInfo<UnixAddr>| async move {
                format!("unnamed: {}", peer.is_unnamed())
            }),
        );
        let server = tokio::spawn(async move {
            axum::serve(
                shardio::compat::axum::with_connect_info(listener),
                app.into_make_service_with_connect_info::<UnixAddr>(),
            )
            .await
        });
        let stream = UnixStream::connect(&path).await?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(io::Error::other)?;
        tokio::spawn(conn);
        let req = Request::get("http://localhost/peer")
            .body(Full::<Bytes>::default())
            .map_err(io::Error::other)?;
        let resp = sender.send_request(req).await.map_err(io::Error::other)?;
        assert!(resp.status().is_success(), "{}", resp.status());
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(io::Error::other)?
            .to_bytes();
        assert_eq!(&body[..], b"unnamed: true");
        server.abort();
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_util_framed_lines_both_ends() -> io::Result<()> {
    use tokio_util::codec::{Framed, LinesCodec};

    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await?;
            let mut framed = Framed::new(stream, LinesCodec::new());
            while let Some(line) = framed.next().await {
                let line = line.map_err(io::Error::other)?;
                framed
                    .send(line.to_uppercase())
                    .await
                    .map_err(io::Error::other)?;
            }
            io::Result::Ok(())
        });
        let stream = TcpStream::connect(addr).await?;
        let (mut sink, mut stream) = Framed::new(stream, LinesCodec::new()).split();
        let writer = tokio::spawn(async move {
            for i in 0..2000 {
                sink.send(format!("line {i} of the codec test"))
                    .await
                    .map_err(io::Error::other)?;
            }
            sink.close().await.map_err(io::Error::other)
        });
        for i in 0..2000 {
            let line = stream
                .next()
                .await
                .expect("a reply")
                .map_err(io::Error::other)?;
            assert_eq!(line, format!("LINE {i} OF THE CODEC TEST"));
        }
        writer.await.map_err(io::Error::other)??;
        server.await.map_err(io::Error::other)??;
        Ok(())
    })
    .await
}

#[test]
fn tokio_rustls_over_shardio_streams_on_a_shardio_runtime() -> io::Result<()> {
    use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
    use tokio_rustls::rustls::{ClientConfig, RootCertStore, ServerConfig};

    // This one runs on a runtime built with shardio's builder extension.
    let rt = {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(2).enable_all();
        shardio::BuilderExt::shardio(&mut builder, shardio::Config::default());
        builder.build()?
    };
    rt.block_on(bounded(async {
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()])
            .map_err(io::Error::other)?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
        let server_config = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(vec![cert.cert.der().clone()], key)
            .map_err(io::Error::other)?;
        let mut roots = RootCertStore::empty();
        roots
            .add(cert.cert.der().clone())
            .map_err(io::Error::other)?;
        let client_config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_root_certificates(roots)
            .with_no_client_auth();

        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_config));
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await?;
            let mut tls = acceptor.accept(stream).await?;
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = tls.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                tls.write_all(&buf[..n]).await?;
            }
            tls.shutdown().await
        });

        let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config));
        let stream = TcpStream::connect(addr).await?;
        let name = ServerName::try_from("localhost").map_err(io::Error::other)?;
        let tls = connector.connect(name, stream).await?;
        let (mut r, mut w) = tokio::io::split(tls);
        let data: Vec<u8> = (0..256 * 1024).map(|i: u32| (i * 7) as u8).collect();
        let sent = data.clone();
        let writer = tokio::spawn(async move {
            w.write_all(&sent).await?;
            w.shutdown().await?;
            io::Result::Ok(())
        });
        let mut got = Vec::new();
        r.read_to_end(&mut got).await?;
        writer.await.map_err(io::Error::other)??;
        assert!(
            got == data,
            "got {} of {} bytes back",
            got.len(),
            data.len()
        );
        server.await.map_err(io::Error::other)??;
        Ok(())
    }))
}

/// A tonic server on `serve_with_incoming(listener.incoming())` and a
/// client channel on `compat::hyper::Connector`, with no type of the test's
/// own: shardio's streams are tonic's `Connected`, so `remote_addr()`
/// reaches the service.
#[cfg(feature = "tonic")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tonic_server_with_incoming_and_client_with_connector() -> io::Result<()> {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;

    bounded(async {
        let client_class = shardio::sched::PriorityClass::new("tonic-client", 100);
        let before = shardio::metrics();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (reporter, health) = tonic_health::server::health_reporter();
        reporter
            .set_service_status("shardio.Echo", tonic_health::ServingStatus::Serving)
            .await;
        // The peers the service saw, through tonic's `Request::remote_addr`.
        let peers = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = Arc::clone(&peers);
        let health = tonic::service::interceptor::InterceptedService::new(
            health,
            move |req: tonic::Request<()>| {
                seen.lock().unwrap().push(req.remote_addr());
                Ok(req)
            },
        );
        let server = tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_service(health)
                .serve_with_incoming(listener.incoming())
                .await
        });

        let mut connector = shardio::compat::hyper::Connector::new();
        connector.set_nodelay(true);
        connector.set_class(&client_class);
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .map_err(io::Error::other)?
            .connect_with_connector(connector)
            .await
            .map_err(io::Error::other)?;
        let mut client = HealthClient::new(channel);
        for _ in 0..20 {
            let resp = client
                .check(HealthCheckRequest {
                    service: "shardio.Echo".into(),
                })
                .await
                .map_err(io::Error::other)?;
            assert_eq!(resp.into_inner().status, ServingStatus::Serving as i32);
        }
        let missing = client
            .check(HealthCheckRequest {
                service: "nope".into(),
            })
            .await
            .expect_err("unknown service");
        assert_eq!(missing.code(), tonic::Code::NotFound);
        let peers = peers.lock().unwrap().clone();
        assert_eq!(peers.len(), 21);
        for peer in peers {
            let peer = peer.expect("tonic's remote_addr() from shardio's TcpConnectInfo");
            assert!(
                peer.ip().is_loopback() && peer.port() != addr.port(),
                "{peer}"
            );
        }
        server.abort();
        assert_through_rings(&before, &client_class);
        Ok(())
    })
    .await
}

/// tonic's `Connected` for a shardio `UnixStream`: tonic's own
/// `UdsConnectInfo`, peer credentials included.
#[cfg(feature = "tonic")]
#[tokio::test]
async fn tonic_connect_info_of_a_unix_stream() -> io::Result<()> {
    use tonic::transport::server::Connected;

    let (a, _b) = shardio::net::UnixStream::pair()?;
    let info = a.connect_info();
    let cred = info.peer_cred.expect("peer credentials");
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    assert_eq!(cred.uid(), uid);
    assert_eq!(cred.pid(), Some(std::process::id() as i32));
    assert!(info.peer_addr.expect("peer address").is_unnamed());
    Ok(())
}

/// hyper-util's legacy `Client` on `compat::hyper::Connector` against a
/// hyper server on a shardio listener: pooled connections, the connector's
/// `HttpInfo` in the responses, and errors that name the cause.
#[cfg(feature = "hyper")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyper_util_legacy_client_on_the_shardio_connector() -> io::Result<()> {
    use hyper_util::client::legacy::Client;
    use shardio::compat::hyper::{Connector, HttpInfo};

    bounded(async {
        let client_class = shardio::sched::PriorityClass::new("hyper-client", 100);
        let before = shardio::metrics();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(
                            TokioIo::new(stream),
                            hyper::service::service_fn(echo_service),
                        )
                        .await;
                });
            }
        });

        let mut connector = Connector::new();
        connector.set_nodelay(true);
        connector.set_keepalive(Some(Duration::from_secs(60)));
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        connector.set_class(&client_class);
        let client = Client::builder(TokioExecutor::new()).build::<_, Full<Bytes>>(connector);
        // `localhost` goes through name resolution; the address literal not.
        for (i, host) in ["localhost", "127.0.0.1", "localhost"].iter().enumerate() {
            let body = if i == 1 {
                big_body()
            } else {
                vec![i as u8; 10]
            };
            let req = Request::post(format!("http://{host}:{}/c/{i}", addr.port()))
                .body(Full::new(Bytes::from(body.clone())))
                .map_err(io::Error::other)?;
            let resp = client.request(req).await.map_err(io::Error::other)?;
            assert!(resp.status().is_success());
            let info = *resp.extensions().get::<HttpInfo>().expect("HttpInfo");
            assert_eq!(info.remote_addr().port(), addr.port());
            assert!(info.local_addr().ip().is_loopback());
            let got = resp
                .into_body()
                .collect()
                .await
                .map_err(io::Error::other)?
                .to_bytes();
            let mut expected = format!("POST /c/{i} ").into_bytes();
            expected.extend_from_slice(&body);
            assert!(got[..] == expected[..], "response {i} differs");
        }
        server.abort();
        assert_through_rings(&before, &client_class);

        // Errors name the cause.
        let connector = Connector::new();
        let https = connector.connect("https://127.0.0.1:1/".parse().map_err(io::Error::other)?);
        let err = https.await.expect_err("https without a TLS layer");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("enforce_http(false)"), "{err}");
        let closed = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let refused = connector.connect(
            format!("http://{closed}/")
                .parse()
                .map_err(io::Error::other)?,
        );
        let err = refused.await.expect_err("nothing listens there");
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        assert!(
            err.to_string()
                .contains(&format!("connect to {closed} failed")),
            "{err}"
        );
        Ok(())
    })
    .await
}
/// upstream sees end of stream, answers, and the client reads to its end.
#[shardio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_bidirectional_proxy_forwards_data_and_half_close() -> io::Result<()> {
    bounded(async {
        // Upstream (Tokio): reads everything, then answers with its reverse.
        let upstream = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let upstream_addr = upstream.local_addr()?;
        let upstream_task = tokio::spawn(async move {
            let (mut s, _) = upstream.accept().await?;
            let mut got = Vec::new();
            s.read_to_end(&mut got).await?;
            got.reverse();
            s.write_all(&got).await?;
            s.shutdown().await?;
            io::Result::Ok(got.len())
        });
        // The proxy (shardio on both sides).
        let proxy = TcpListener::bind("127.0.0.1:0").await?;
        let proxy_addr = proxy.local_addr()?;
        let proxy_task = tokio::spawn(async move {
            let (mut inbound, _) = proxy.accept().await?;
            let mut outbound = TcpStream::connect(upstream_addr).await?;
            tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await
        });
        // Client (Tokio): 4 MiB up, half-close, read the answer to its end.
        let data = big_body().repeat(4);
        let mut client = tokio::net::TcpStream::connect(proxy_addr).await?;
        let (mut r, mut w) = client.split();
        let up = async {
            w.write_all(&data).await?;
            w.shutdown().await
        };
        let mut back = Vec::new();
        let down = r.read_to_end(&mut back);
        let (up, down) = tokio::join!(up, down);
        up?;
        down?;
        let mut expected = data.clone();
        expected.reverse();
        assert!(back == expected, "the answer crossed the proxy changed");
        let (to_upstream, to_client) = proxy_task.await.map_err(io::Error::other)??;
        assert_eq!(
            (to_upstream, to_client),
            (data.len() as u64, data.len() as u64)
        );
        assert_eq!(upstream_task.await.map_err(io::Error::other)??, data.len());
        Ok(())
    })
    .await
}

/// `tokio::io::BufReader` line reading over a shardio stream's read half,
/// with lines split across receives at arbitrary points.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buf_reader_lines_over_a_shardio_read_half() -> io::Result<()> {
    use tokio::io::AsyncBufReadExt;

    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let writer = tokio::spawn(async move {
            let mut s = tokio::net::TcpStream::connect(addr).await?;
            s.set_nodelay(true)?;
            let text: String = (0..5000)
                .map(|i| format!("line {i} {}\n", "x".repeat(i % 97)))
                .collect();
            // Odd-sized pieces so lines straddle receives.
            for piece in text.as_bytes().chunks(1237) {
                s.write_all(piece).await?;
            }
            s.shutdown().await
        });
        let (stream, _) = listener.accept().await?;
        let (read, _write) = stream.into_split();
        let mut lines = tokio::io::BufReader::new(read).lines();
        let mut n = 0;
        while let Some(line) = lines.next_line().await? {
            assert_eq!(line, format!("line {n} {}", "x".repeat(n % 97)));
            n += 1;
        }
        assert_eq!(n, 5000);
        writer.await.map_err(io::Error::other)??;
        Ok(())
    })
    .await
}
