//! A group's first failure racing a concurrent member failure
//! (`task/group/failure.rs`): exactly one failure is first, the group's
//! token is cancelled with that one cause, and every member — the two
//! failing ones and a sibling watching its token — sees that same cause.
//!
//! Weakening the protocol makes it fail: with the check and the store of
//! the first failure in two critical sections, both members can find the
//! slot empty and both report "first" (and the stored cause can differ
//! from the token's).

use loom::thread;
use quell_cancel::{CancelToken, Cause};

use super::model;
use crate::loom::Arc;
use crate::task::group::failure::FirstFailure;

#[test]
fn loom_group_first_failure_vs_concurrent_failure() {
    model(|| {
        let token = CancelToken::new();
        let first = Arc::new(FirstFailure::new());
        let member = |name: &'static str| {
            let (token, first) = (token.clone(), first.clone());
            thread::spawn(move || {
                let cause = Cause::group_failure(name);
                let won = first.fail(&token, cause.clone());
                if won {
                    // The winner's own cancel is done: its member sees it.
                    assert!(token.cause().unwrap().same(&cause));
                }
                (won, cause)
            })
        };
        let a = member("a");
        let b = member("b");
        // A sibling member looking at its token while the two fail.
        let early = token.cause();
        let (won_a, cause_a) = a.join().unwrap();
        let (won_b, cause_b) = b.join().unwrap();

        assert!(won_a ^ won_b, "exactly one first failure");
        let stored = first.get().expect("a failure was recorded");
        let winner = if won_a { &cause_a } else { &cause_b };
        assert!(stored.same(winner), "the first failure is the winner's");
        let seen = token.cause().expect("the group token was cancelled");
        assert!(seen.same(&stored), "members see the first failure");
        if let Some(c) = early {
            assert!(c.same(&stored), "a sibling never sees another cause");
        }
    });
}
