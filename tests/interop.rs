//! Real libraries on shardio's types, each with a real server and client:
//! hyper (HTTP/1.1 and HTTP/2), axum, tonic, tokio-util codecs, tokio-rustls,
//! and the tokio::io utilities proxies and protocol code use.
//! Nothing here is adapted to shardio beyond swapping the socket types.

use std::io;
use std::net::SocketAddr;
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

/// axum's `Listener` for shardio's listener. axum implements
/// `Connected<IncomingStream<TcpListener>>` for `SocketAddr` only for Tokio's
/// listener, and the orphan rule keeps anyone else from adding it for
/// another listener: `ConnectInfo` takes a newtype, as below.
struct ShardioListener(TcpListener);

impl axum::serve::Listener for ShardioListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            match self.0.accept().await {
                Ok(accepted) => return accepted,
                // As axum does for Tokio's listener: back off and retry
                // (e.g. EMFILE).
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

/// The client address, for `ConnectInfo<ClientAddr>`.
#[derive(Clone, Copy, Debug)]
struct ClientAddr(SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, ShardioListener>>
    for ClientAddr
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, ShardioListener>) -> Self {
        ClientAddr(*stream.remote_addr())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_serve_on_a_shardio_listener_with_connect_info() -> io::Result<()> {
    use axum::extract::ConnectInfo;
    use axum::routing::{get, post};

    bounded(async {
        let listener = ShardioListener(TcpListener::bind("127.0.0.1:0").await?);
        let addr = axum::serve::Listener::local_addr(&listener)?;
        let app = axum::Router::new()
            .route("/hello", get(|| async { "hello from axum on shardio" }))
            .route(
                "/whoami",
                get(
                    |ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>| async move {
                        peer.to_string()
                    },
                ),
            )
            .route(
                "/len",
                post(|body: Bytes| async move { body.len().to_string() }),
            );
        let server = tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<ClientAddr>(),
            )
            .await
        });

        let stream = TcpStream::connect(addr).await?;
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

/// tonic's `Connected` for shardio's stream (a newtype, as the orphan rule
/// requires in a user's crate too).
struct GrpcConn(TcpStream);

impl tonic::transport::server::Connected for GrpcConn {
    type ConnectInfo = Option<SocketAddr>;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.0.peer_addr().ok()
    }
}

impl tokio::io::AsyncRead for GrpcConn {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for GrpcConn {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        std::pin::Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tonic_server_with_incoming_and_client_with_connector() -> io::Result<()> {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;

    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (reporter, health) = tonic_health::server::health_reporter();
        reporter
            .set_service_status("shardio.Echo", tonic_health::ServingStatus::Serving)
            .await;
        let incoming = futures::stream::unfold(listener, |listener| async move {
            let conn = listener.accept().await.map(|(stream, _)| GrpcConn(stream));
            Some((conn, listener))
        });
        let server = tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(health)
                .serve_with_incoming(incoming),
        );

        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .map_err(io::Error::other)?
            .connect_with_connector(tower::service_fn(move |_: hyper::Uri| async move {
                TcpStream::connect(addr).await.map(TokioIo::new)
            }))
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
        server.abort();
        Ok(())
    })
    .await
}

/// A TCP proxy as users write one: `tokio::io::copy_bidirectional` between
/// two shardio streams, with a plain Tokio client and upstream. Each side's
/// FIN must cross the proxy (`poll_shutdown` after the pending data), so the
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
