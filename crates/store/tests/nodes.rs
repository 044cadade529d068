//! Node leases and the async tasks of dead nodes, on every engine: two store handles on one
//! database are two nodes (`testing::reopen_store` opens the database again, as another
//! `portico serve` would). On PostgreSQL a node is dead when its lease ran out; on SQLite one
//! process owns the file, so every other node is an earlier run.

use std::sync::Arc;

use portico_model::{new_id, now};
use portico_store::{AsyncTask, Heartbeat, Store, TaskStatus, TaskType};
use time::Duration;

const REASON: &str = r#"{"error_code":"APIG.9999","error_msg":"stopped"}"#;
const LEASE: Duration = Duration::seconds(10);

async fn bootstrapped(store: &dyn Store) -> String {
    let bootstrap = portico_store::testing::sample_bootstrap("SK");
    assert!(store.bootstrap(&bootstrap).await.unwrap());
    bootstrap.instance.id
}

async fn running_task(store: &dyn Store, instance: &str) -> String {
    let task = AsyncTask {
        id: new_id(),
        task_type: TaskType::Import,
        status: TaskStatus::Processing,
        result: None,
        created_at: now(),
        updated_at: now(),
    };
    store.create_task(instance, &task).await.unwrap();
    task.id
}

async fn status(store: &dyn Store, instance: &str, task: &str) -> TaskStatus {
    store.task(instance, task).await.unwrap().status
}

async fn two_nodes() -> (Arc<dyn Store>, Arc<dyn Store>, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let first = portico_store::testing::fresh_store(dir.path()).await.unwrap();
    let instance = bootstrapped(first.as_ref()).await;
    let second = portico_store::testing::reopen_store(dir.path()).await.unwrap();
    assert_ne!(first.node_id(), second.node_id(), "each opened store is a node of its own");
    (first, second, instance, dir)
}

#[tokio::test]
async fn a_dead_nodes_unfinished_tasks_are_failed_by_another_node() {
    let (first, second, instance, _dir) = two_nodes().await;
    let start = now();
    first.heartbeat(start, LEASE, REASON).await.unwrap();
    let orphan = running_task(first.as_ref(), &instance).await;
    let finished = running_task(first.as_ref(), &instance).await;
    first.update_task(&instance, &finished, TaskStatus::Succeed, Some("{}"), now()).await.unwrap();
    let own = running_task(second.as_ref(), &instance).await;

    let beat = second.heartbeat(start, LEASE, REASON).await.unwrap();
    if portico_store::testing::engine() == "postgres" {
        assert_eq!(beat, Heartbeat { live_nodes: 2, failed_tasks: 0 }, "the first node's lease is current");
        assert_eq!(status(second.as_ref(), &instance, &orphan).await, TaskStatus::Processing);
        let beat = second.heartbeat(start + LEASE + Duration::seconds(1), LEASE, REASON).await.unwrap();
        assert_eq!(beat, Heartbeat { live_nodes: 1, failed_tasks: 1 }, "the first node's lease ran out");
    } else {
        assert_eq!(beat, Heartbeat { live_nodes: 1, failed_tasks: 1 }, "SQLite: the other node is an earlier run");
    }
    let task = second.task(&instance, &orphan).await.unwrap();
    assert_eq!((task.status, task.result.as_deref()), (TaskStatus::Failed, Some(REASON)));
    assert_eq!(status(second.as_ref(), &instance, &finished).await, TaskStatus::Succeed, "finished tasks stay");
    assert_eq!(status(second.as_ref(), &instance, &own).await, TaskStatus::Processing, "a live node's task runs on");
    first.update_task(&instance, &orphan, TaskStatus::Succeed, Some("{}"), now()).await.unwrap();
    let task = second.task(&instance, &orphan).await.unwrap();
    assert_eq!(
        (task.status, task.result.as_deref()),
        (TaskStatus::Failed, Some(REASON)),
        "a late result changes nothing"
    );
    let again = second.heartbeat(now() + LEASE * 2, LEASE, REASON).await.unwrap();
    assert_eq!(again, Heartbeat { live_nodes: 1, failed_tasks: 0 }, "each task is failed once");
}

#[tokio::test]
async fn a_node_that_leaves_fails_its_own_unfinished_tasks_at_once() {
    let (first, second, instance, _dir) = two_nodes().await;
    first.heartbeat(now(), LEASE, REASON).await.unwrap();
    second.heartbeat(now(), LEASE, REASON).await.unwrap();
    let leaving = running_task(second.as_ref(), &instance).await;
    let staying = running_task(first.as_ref(), &instance).await;
    second.leave(now(), REASON).await.unwrap();
    assert_eq!(status(first.as_ref(), &instance, &leaving).await, TaskStatus::Failed);
    if portico_store::testing::engine() == "postgres" {
        assert_eq!(status(first.as_ref(), &instance, &staying).await, TaskStatus::Processing, "another node's task");
        assert_eq!(first.heartbeat(now(), LEASE, REASON).await.unwrap().live_nodes, 1, "the one that left is gone");
    }
}
