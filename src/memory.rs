//! How this process asks for memory: mimalloc, its purge delay, and transparent huge pages.

// mimalloc's options and prctl are C interfaces.
#![allow(unsafe_code)]

// Ingest builds and frees tens of megabytes of Arrow buffers per batch, and
// parsing allocates per record: mimalloc keeps both off the kernel's page-fault
// path (the parse benchmark went from 216 to 317 MiB/s with it).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc v2's `mi_option_e` (mimalloc.h);
/// libmimalloc-sys does not name it.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps freed memory with the process for a second before mimalloc gives
/// it back to the kernel (its default: 10 ms). Ingest frees a batch's Arrow
/// and Parquet buffers every few tens of milliseconds and allocates the next
/// batch's right after: given back, every page came again as a page fault
/// the kernel zeroes (15 % of the CPU of a CloudTrail ingest in `perf`,
/// 70,000 faults per 600 MB; on two cores the three families ingested in
/// 27.5 s, now 21.7). Costs 20-50 MB of peak RSS. A delay set in mimalloc's
/// own variable is left as it is.
pub fn keep_freed_memory_for_reuse() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: sets one of mimalloc's options, a plain store of an integer.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 1000);
    }
}

/// Turns transparent huge pages off for this process, as mimalloc's
/// `MIMALLOC_ALLOW_THP=0` would. mimalloc asks for huge pages on its
/// segments; writing the lake frees and reallocates its batch buffers over
/// and over, and each first touch then had the kernel zero a whole 2 MiB
/// page (`clear_page_erms`, up to a quarter of a CloudTrail ingest's CPU in
/// `perf`). Under Lambda they are off too: a function's memory size must
/// cover its peak RSS. Queries keep them: their scans gain from fewer TLB misses.
pub fn disable_transparent_huge_pages() {
    // SAFETY: a prctl that sets a flag of this process; no memory is touched.
    let result = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    if result != 0 {
        tracing::debug!(error = %std::io::Error::last_os_error(), "transparent huge pages left on");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn transparent_huge_pages_can_be_turned_off() {
        super::disable_transparent_huge_pages();
        // SAFETY: reads a flag of this process.
        let disabled = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) };
        assert_eq!(disabled, 1);
    }

    fn purge_delay() -> std::os::raw::c_long {
        // SAFETY: reads one of mimalloc's options.
        unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) }
    }

    /// The option number is mimalloc's purge delay: mimalloc fills that
    /// option from `MIMALLOC_PURGE_DELAY` when the process loads, so this
    /// test runs itself again in a process with the variable set.
    #[test]
    fn the_option_set_is_mimallocs_purge_delay() {
        const EXPECT: &str = "VIGIL_TEST_EXPECT_PURGE_DELAY";
        if let Ok(expected) = std::env::var(EXPECT) {
            assert_eq!(purge_delay().to_string(), expected);
            super::keep_freed_memory_for_reuse();
            assert_eq!(purge_delay().to_string(), expected, "the variable wins");
            return;
        }
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "memory::tests::the_option_set_is_mimallocs_purge_delay",
            ])
            .env("MIMALLOC_PURGE_DELAY", "4321")
            .env(EXPECT, "4321")
            .output()
            .unwrap();
        let output = String::from_utf8_lossy(&child.stdout);
        assert!(child.status.success(), "the child test failed: {output}");
        assert!(
            output.contains("1 passed"),
            "the child ran no test: {output}"
        );
    }

    #[test]
    fn freed_memory_is_kept_a_second_unless_mimallocs_variable_says_otherwise() {
        super::keep_freed_memory_for_reuse();
        match std::env::var("MIMALLOC_PURGE_DELAY") {
            Ok(value) => assert_eq!(purge_delay().to_string(), value),
            Err(_) => assert_eq!(purge_delay(), 1000),
        }
    }
}
