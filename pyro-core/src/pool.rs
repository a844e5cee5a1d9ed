//! Reuse of the heap blocks behind boxed trait objects between SVI steps.
//!
//! Every step runs the model and the guide again: each sample site boxes its distribution, every
//! trace keeps a boxed copy, and each handler is boxed on the handler stack. The objects differ from
//! step to step, but their types, hence the sizes of their blocks, do not. A [`BoxPool`] keeps the
//! blocks of dropped boxes (their contents dropped, the memory kept) and hands them out again for
//! values of the same size and alignment, so that after the first step no site allocates.

use std::alloc::Layout;
use std::ptr::NonNull;

use crate::distributions::Distribution;

/// Most blocks a pool keeps; beyond this, returned blocks are freed.
const MAX_BLOCKS: usize = 1024;

/// Free heap blocks, each with the layout it was allocated with.
#[doc(hidden)]
#[derive(Default)]
pub struct BoxPool {
    blocks: Vec<(NonNull<u8>, Layout)>,
}

// SAFETY: the pool owns raw, uninitialised memory only (the values that lived there were dropped
// before their blocks entered the pool), so nothing in it is tied to a thread.
unsafe impl Send for BoxPool {}

impl BoxPool {
    /// An empty pool.
    pub fn new() -> BoxPool {
        BoxPool::default()
    }

    /// Number of free blocks held.
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    /// Whether no block is held.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// `Box::new(value)`, in a free block of the right layout when the pool has one.
    pub fn alloc<T>(&mut self, value: T) -> Box<T> {
        let layout = Layout::new::<T>();
        if layout.size() == 0 {
            return Box::new(value);
        }
        match self.blocks.iter().rposition(|&(_, l)| l == layout) {
            Some(i) => {
                let (ptr, _) = self.blocks.swap_remove(i);
                let p = ptr.as_ptr().cast::<T>();
                // SAFETY: the block was allocated by the global allocator with exactly `layout`
                // (it came from a `Box` whose value had this layout, see `recycle`), holds no live
                // value, and is owned by the pool alone; writing a `T` and handing the block to a
                // `Box<T>` is what `Box::new` would do with a fresh block of that layout.
                unsafe {
                    p.write(value);
                    Box::from_raw(p)
                }
            }
            None => Box::new(value),
        }
    }

    /// A boxed distribution, in a recycled block when possible.
    pub fn boxed_dist<D: Distribution + 'static>(&mut self, d: D) -> Box<dyn Distribution> {
        self.alloc(d)
    }

    /// Drops the value of `b` and keeps its block for a later [`BoxPool::alloc`].
    pub fn recycle<U: ?Sized>(&mut self, b: Box<U>) {
        let layout = Layout::for_value::<U>(&b);
        if layout.size() == 0 || self.blocks.len() >= MAX_BLOCKS {
            drop(b);
            return;
        }
        let raw = Box::into_raw(b);
        // SAFETY: `raw` comes from a live `Box`, so it is valid for dropping its value once; the
        // memory stays allocated (with `layout`, the layout `Box` allocated it with) and is owned
        // by the pool from now on. If the value's destructor panics, the block leaks, never frees
        // twice.
        unsafe { std::ptr::drop_in_place(raw) };
        if let Some(ptr) = NonNull::new(raw.cast::<u8>()) {
            self.blocks.push((ptr, layout));
        }
    }

    /// Moves the value out of `b`, keeping its block.
    pub fn unbox<T>(&mut self, b: Box<T>) -> T {
        let layout = Layout::new::<T>();
        if layout.size() == 0 || self.blocks.len() >= MAX_BLOCKS {
            return *b;
        }
        let raw = Box::into_raw(b);
        // SAFETY: `raw` comes from a live `Box<T>`: reading the value out once is valid, and the
        // block (allocated with `layout`) is then owned by the pool without a live value in it.
        let value = unsafe { raw.read() };
        if let Some(ptr) = NonNull::new(raw.cast::<u8>()) {
            self.blocks.push((ptr, layout));
        }
        value
    }

    /// Moves the blocks of `other` into this pool (up to its limit; the rest are freed).
    pub fn absorb(&mut self, other: &mut BoxPool) {
        while let Some((ptr, layout)) = other.blocks.pop() {
            if self.blocks.len() >= MAX_BLOCKS {
                // SAFETY: see `Drop`.
                unsafe { std::alloc::dealloc(ptr.as_ptr(), layout) };
            } else {
                self.blocks.push((ptr, layout));
            }
        }
    }
}

impl Drop for BoxPool {
    fn drop(&mut self) {
        for &(ptr, layout) in &self.blocks {
            // SAFETY: every block was allocated by the global allocator with `layout` and holds no
            // live value; the pool is its only owner.
            unsafe { std::alloc::dealloc(ptr.as_ptr(), layout) };
        }
    }
}

impl Clone for BoxPool {
    /// A clone starts empty: the blocks are owned by one pool.
    fn clone(&self) -> BoxPool {
        BoxPool::new()
    }
}

impl std::fmt::Debug for BoxPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BoxPool({} blocks)", self.blocks.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[test]
    fn blocks_are_reused_for_the_same_layout_and_values_dropped_once() {
        let mut pool = BoxPool::new();
        let counter = Rc::new(());
        let b = pool.alloc((Rc::clone(&counter), 1u64));
        let addr = &*b as *const _ as usize;
        pool.recycle(b);
        assert_eq!(Rc::strong_count(&counter), 1, "the value was dropped");
        assert_eq!(pool.len(), 1);
        // Same layout: the same block comes back.
        let c = pool.alloc((Rc::clone(&counter), 2u64));
        assert_eq!(&*c as *const _ as usize, addr);
        assert_eq!(c.1, 2);
        assert!(pool.is_empty());
        // Another layout: a fresh block.
        let d = pool.alloc([0u8; 3]);
        assert_eq!(*d, [0; 3]);
        let v = pool.unbox(c);
        assert_eq!(v.1, 2);
        drop(v);
        assert_eq!(Rc::strong_count(&counter), 1);
        let dyn_box: Box<dyn std::fmt::Debug> = pool.alloc(5u64);
        pool.recycle(dyn_box);
        assert_eq!(pool.len(), 2);
    }
}
