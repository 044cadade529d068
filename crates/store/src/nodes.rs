//! The nodes that serve one database. Each `portico serve` is a node: it renews a lease in the
//! database every heartbeat, the async tasks it accepts name it, and any node fails the unfinished
//! tasks of a node whose lease ran out, so no task stays `processing` after its node died.

/// What a heartbeat found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    /// Nodes whose lease is current, this one included (at least 1).
    pub live_nodes: u64,
    /// Unfinished tasks of dead nodes this heartbeat marked failed.
    pub failed_tasks: u64,
}
