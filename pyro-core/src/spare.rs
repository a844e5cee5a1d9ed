//! The capacity of an emptied vector, kept from one SVI step to the next.
//!
//! A step's vectors hold tensors, traces and handlers, which are tied to the thread that made
//! them (tensors share their tape through `Rc`). Their *allocations* are not: once a vector is
//! empty it owns only raw memory. [`Spare`] is such a vector, empty by construction, so that
//! the storage an `Svi` keeps between steps is `Send` whatever the element type, without an
//! invariant that each caller must remember.

/// An empty `Vec<T>` kept for its capacity. It can only be made by [`Spare::new`], which
/// clears the vector, and only be read back by [`Spare::into_vec`], which gives it up: no
/// element is ever stored in it.
pub(crate) struct Spare<T>(Vec<T>);

// SAFETY: a `Spare<T>` never holds a `T` (its only constructor clears the vector, and no method
// adds to it), so sending it moves nothing but an allocation of the global allocator, which may
// be freed or reused on any thread. No `T` value crosses threads, so `T` need not be `Send`.
unsafe impl<T> Send for Spare<T> {}

impl<T> Spare<T> {
    /// Drops the elements of `v` and keeps its allocation.
    pub(crate) fn new(mut v: Vec<T>) -> Spare<T> {
        v.clear();
        Spare(v)
    }

    /// The empty vector, with its capacity.
    pub(crate) fn into_vec(self) -> Vec<T> {
        self.0
    }
}

impl<T> Default for Spare<T> {
    fn default() -> Spare<T> {
        Spare(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    fn assert_send<S: Send>(_: &S) {}

    #[test]
    fn keeps_the_capacity_and_none_of_the_elements() {
        let shared = Rc::new(1);
        let v = vec![Rc::clone(&shared), Rc::clone(&shared), Rc::clone(&shared)];
        let cap = v.capacity();
        let spare = Spare::new(v);
        // The elements were dropped when the spare was made, not later on another thread.
        assert_eq!(Rc::strong_count(&shared), 1);
        assert_send(&spare);
        let back = std::thread::spawn(move || spare.into_vec().capacity())
            .join()
            .unwrap();
        assert_eq!(back, cap);
    }
}
