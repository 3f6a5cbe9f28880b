//! Backtraces of another thread: a real-time signal makes the stalled
//! thread record its own instruction pointers, which the watchdog then
//! symbolizes outside the handler.
//!
//! The handler only calls `gettid` and glibc's `backtrace` (warmed up at
//! install, so it does not load libgcc inside the handler) and stores into
//! static atomics: the same approach as Seastar's stall detector. One
//! capture runs at a time.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use crate::sync::Mutex;

const MAX_FRAMES: usize = 64;

/// The signal in use; 0 when none could be installed.
static SIGNAL: AtomicI32 = AtomicI32::new(0);
/// The thread whose backtrace is wanted now.
static TARGET: AtomicI32 = AtomicI32::new(0);
static FRAMES: [AtomicUsize; MAX_FRAMES] = [const { AtomicUsize::new(0) }; MAX_FRAMES];
static LEN: AtomicUsize = AtomicUsize::new(0);
static DONE: AtomicBool = AtomicBool::new(false);
static CAPTURE: Mutex<()> = Mutex::new(());

extern "C" fn handler(_sig: libc::c_int, _info: *mut libc::siginfo_t, _ctx: *mut c_void) {
    // SAFETY: gettid is async-signal-safe.
    let me = unsafe { libc::gettid() };
    if me != TARGET.load(Ordering::Acquire) {
        return;
    }
    let mut frames = [std::ptr::null_mut::<c_void>(); MAX_FRAMES];
    // SAFETY: `frames` has room for MAX_FRAMES pointers; backtrace was
    // called once at install, so it does not initialize itself here.
    let n = unsafe { libc::backtrace(frames.as_mut_ptr(), MAX_FRAMES as libc::c_int) };
    let n = n.clamp(0, MAX_FRAMES as libc::c_int) as usize;
    for (slot, frame) in FRAMES.iter().zip(&frames[..n]) {
        slot.store(*frame as usize, Ordering::Relaxed);
    }
    LEN.store(n, Ordering::Relaxed);
    DONE.store(true, Ordering::Release);
}

/// Installs the handler on the first free real-time signal (once).
pub(super) fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let mut warm = [std::ptr::null_mut::<c_void>(); 4];
        // SAFETY: warms glibc's backtrace up outside any signal handler.
        unsafe { libc::backtrace(warm.as_mut_ptr(), 4) };
        for sig in (libc::SIGRTMIN() + 4)..=libc::SIGRTMAX() {
            // SAFETY: sigaction with a null new action only reads the old one.
            let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
            if unsafe { libc::sigaction(sig, std::ptr::null(), &mut old) } != 0 {
                continue;
            }
            if old.sa_sigaction != libc::SIG_DFL {
                continue; // someone else's signal
            }
            // SAFETY: a zeroed sigaction is valid; we fill the handler,
            // flags and an empty mask before installing it.
            let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
            action.sa_sigaction = handler as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            // SAFETY: `action.sa_mask` is a valid sigset to clear, and the
            // handler only does async-signal-safe work.
            let ok = unsafe {
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(sig, &action, std::ptr::null_mut()) == 0
            };
            if ok {
                SIGNAL.store(sig, Ordering::Release);
                return;
            }
        }
        tracing::warn!(
            target: "shardio::stall",
            "no free real-time signal for stall backtraces; stalls are reported without them"
        );
    });
}

/// Instruction pointers of thread `tid` now, or `None` if it could not be
/// interrupted in time.
pub(super) fn capture(tid: i32) -> Option<Vec<usize>> {
    let sig = SIGNAL.load(Ordering::Acquire);
    if sig == 0 {
        return None;
    }
    let _one_at_a_time = CAPTURE.lock();
    DONE.store(false, Ordering::Release);
    TARGET.store(tid, Ordering::Release);
    // SAFETY: tgkill signals a thread of this process with a signal whose
    // handler we installed.
    let sent = unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, sig) } == 0;
    let deadline = Instant::now() + Duration::from_millis(200);
    while sent && !DONE.load(Ordering::Acquire) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_micros(200));
    }
    TARGET.store(0, Ordering::Release);
    if !DONE.load(Ordering::Acquire) {
        return None;
    }
    let n = LEN.load(Ordering::Relaxed);
    Some(FRAMES[..n].iter().map(|f| f.load(Ordering::Relaxed)).collect())
}

/// Function names (and locations where known) for the captured frames,
/// one per line, without the signal machinery's own frames.
pub(super) fn symbolize(frames: &[usize]) -> String {
    let mut lines = Vec::new();
    for &ip in frames {
        let mut line = None;
        backtrace::resolve(ip as *mut c_void, |sym| {
            if line.is_some() {
                return;
            }
            let name = sym.name().map_or_else(|| format!("{ip:#x}"), |n| n.to_string());
            let at = match (sym.filename(), sym.lineno()) {
                (Some(file), Some(l)) => format!(" at {}:{l}", file.display()),
                _ => String::new(),
            };
            line = Some(format!("{name}{at}"));
        });
        lines.push(line.unwrap_or_else(|| format!("{ip:#x}")));
    }
    // Drop the handler's frame and the signal trampoline after it (kernel
    // and libc frames that do not symbolize).
    let skip = lines
        .iter()
        .position(|l| l.contains("stall::signal::handler"))
        .map_or(0, |handler| {
            handler + 1 + lines[handler + 1..].iter().take_while(|l| l.starts_with("0x")).count()
        });
    lines[skip..]
        .iter()
        .enumerate()
        .map(|(i, l)| format!("  {i:2}: {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
