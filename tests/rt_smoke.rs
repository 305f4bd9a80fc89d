//! Smoke test: spawn and join many tasks.

use quell::Runtime;

#[test]
fn spawn_and_join_many() {
    let rt = Runtime::new().unwrap();
    let sum = rt.block_on(async {
        let hs: Vec<_> = (0..10_000u64)
            .map(|i| quell::spawn(async move { i }))
            .collect();
        let mut s = 0;
        for h in hs {
            s += h.await.unwrap();
        }
        s
    });
    assert_eq!(sum, (0..10_000u64).sum());
}
