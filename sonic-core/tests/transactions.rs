//! Interactive transactions on SQLite: another thread's statements wait for the transaction to
//! end instead of landing inside it (the scenario in sonic-db-conformance covers the rest).

use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::{Capabilities, Db, Error};

#[test]
fn another_threads_statements_wait_for_the_transaction_and_do_not_join_it() {
    let sqlite = Arc::new(SqliteBackend::memory().unwrap());
    sqlite.exec("CREATE TABLE t (x INTEGER)").unwrap();
    let db = Db::from_shared(sqlite.clone());
    let (inside, started) = mpsc::channel();
    let other = {
        let db = Db::from_shared(sqlite.clone());
        thread::spawn(move || {
            started.recv().unwrap();
            // Sent while the transaction holds one uncommitted row: it must not see it.
            pollster::block_on(db.sql("SELECT count(*) AS n FROM t").all_json()).unwrap()
        })
    };
    let outcome: Result<(), Error> = pollster::block_on(db.transaction(|tx| async move {
        tx.sql("INSERT INTO t VALUES (1)").run().await?;
        inside.send(()).unwrap();
        thread::sleep(Duration::from_millis(200)); // the other thread is waiting meanwhile
        Err(Error::InvalidQuery("undo".into()))
    }));
    assert!(outcome.is_err());
    let seen = other.join().unwrap();
    assert_eq!(seen[0]["n"], 0);
    let after = pollster::block_on(db.sql("SELECT count(*) AS n FROM t").all_json()).unwrap();
    assert_eq!(after[0]["n"], 0);
}

#[test]
fn a_backend_declaring_d1s_capabilities_refuses_before_sending() {
    let sqlite = SqliteBackend::memory()
        .unwrap()
        .with_capabilities(Capabilities::D1);
    sqlite.exec("CREATE TABLE t (x INTEGER)").unwrap();
    let db = Db::new(sqlite);
    let refused = pollster::block_on(
        db.transaction(|tx| async move { tx.sql("INSERT INTO t VALUES (1)").run().await }),
    );
    assert!(matches!(refused, Err(Error::Unsupported(_))), "{refused:?}");
    let after = pollster::block_on(db.sql("SELECT count(*) AS n FROM t").all_json()).unwrap();
    assert_eq!(after[0]["n"], 0);
}
