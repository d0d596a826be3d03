//! A slab of entities addressed by small integer ids.
//!
//! Requests in flight live here; events carry a `u32` id instead of owning the
//! request, so events stay small and `Copy`. Freed slots are reused, so the
//! arena grows only to the peak number of live entities, never with the total
//! number ever created.

enum Slot<T> {
    Occupied(T),
    Free { next: u32 },
}

const NONE: u32 = u32::MAX;

pub struct Arena<T> {
    slots: Vec<Slot<T>>,
    free_head: u32,
    live: usize,
}

impl<T> Default for Arena<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Arena<T> {
    pub fn new() -> Self {
        Arena {
            slots: Vec::new(),
            free_head: NONE,
            live: 0,
        }
    }

    /// Stores `value` and returns its id.
    #[inline]
    pub fn insert(&mut self, value: T) -> u32 {
        self.live += 1;
        if self.free_head != NONE {
            let id = self.free_head;
            let slot = &mut self.slots[id as usize];
            match slot {
                Slot::Free { next } => self.free_head = *next,
                Slot::Occupied(_) => unreachable!("free list points at a live slot"),
            }
            *slot = Slot::Occupied(value);
            id
        } else {
            let id = self.slots.len();
            assert!(id < NONE as usize, "arena full");
            self.slots.push(Slot::Occupied(value));
            id as u32
        }
    }

    /// The id the next [`Arena::insert`] returns (so that an entity can
    /// name another that names it back, both stored once).
    #[inline]
    pub fn next_id(&self) -> u32 {
        if self.free_head != NONE {
            self.free_head
        } else {
            self.slots.len() as u32
        }
    }

    /// Removes and returns the entity `id`. Panics if it is not live: a model
    /// that frees an id twice has a bug that must not pass silently.
    #[inline]
    pub fn remove(&mut self, id: u32) -> T {
        let slot = std::mem::replace(
            &mut self.slots[id as usize],
            Slot::Free {
                next: self.free_head,
            },
        );
        match slot {
            Slot::Occupied(v) => {
                self.free_head = id;
                self.live -= 1;
                v
            }
            Slot::Free { .. } => panic!("arena: id {id} removed twice"),
        }
    }

    /// Removes the entity `id` without handing it back (no copy of it is
    /// made). Panics if it is not live, like [`Arena::remove`].
    #[inline]
    pub fn free(&mut self, id: u32) {
        let slot = &mut self.slots[id as usize];
        assert!(
            matches!(slot, Slot::Occupied(_)),
            "arena: id {id} removed twice"
        );
        *slot = Slot::Free {
            next: self.free_head,
        };
        self.free_head = id;
        self.live -= 1;
    }

    #[inline]
    pub fn get(&self, id: u32) -> Option<&T> {
        match self.slots.get(id as usize) {
            Some(Slot::Occupied(v)) => Some(v),
            _ => None,
        }
    }

    #[inline]
    pub fn get_mut(&mut self, id: u32) -> Option<&mut T> {
        match self.slots.get_mut(id as usize) {
            Some(Slot::Occupied(v)) => Some(v),
            _ => None,
        }
    }

    /// Number of live entities.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Slots allocated: the high-water mark of live entities.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Iterates over live entities with their ids.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        self.slots.iter().enumerate().filter_map(|(i, s)| match s {
            Slot::Occupied(v) => Some((i as u32, v)),
            Slot::Free { .. } => None,
        })
    }
}

impl<T> std::ops::Index<u32> for Arena<T> {
    type Output = T;
    #[inline]
    fn index(&self, id: u32) -> &T {
        self.get(id).expect("arena: no live entity with this id")
    }
}

impl<T> std::ops::IndexMut<u32> for Arena<T> {
    #[inline]
    fn index_mut(&mut self, id: u32) -> &mut T {
        self.get_mut(id)
            .expect("arena: no live entity with this id")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_freed_slots() {
        let mut a = Arena::new();
        assert_eq!(a.next_id(), 0);
        let x = a.insert("x");
        assert_eq!(a.next_id(), 1);
        let y = a.insert("y");
        assert_eq!(a.len(), 2);
        assert_eq!(a.remove(x), "x");
        assert_eq!(a.next_id(), x);
        let z = a.insert("z");
        assert_eq!(z, x, "freed slot reused");
        assert_eq!(a.capacity(), 2);
        assert_eq!(a[y], "y");
        a[z] = "zz";
        assert_eq!(a.get(z), Some(&"zz"));
        a.free(y);
        assert_eq!(a.get(y), None);
        assert_eq!(a.next_id(), y);
        assert_eq!(a.insert("w"), y);
        assert_eq!(a.iter().count(), 2);
    }

    #[test]
    #[should_panic(expected = "removed twice")]
    fn freeing_twice_panics() {
        let mut a = Arena::new();
        let x = a.insert(1);
        a.free(x);
        a.free(x);
    }

    #[test]
    fn memory_is_bounded_by_peak_live_count() {
        let mut a = Arena::new();
        for i in 0..100_000u32 {
            let id = a.insert(i);
            if i % 10 != 9 {
                // Keep at most ~10 alive.
                a.remove(id);
            } else {
                let ids: Vec<u32> = a.iter().map(|(id, _)| id).collect();
                for id in ids {
                    a.remove(id);
                }
            }
        }
        assert!(a.capacity() <= 2, "capacity {}", a.capacity());
    }

    #[test]
    #[should_panic(expected = "removed twice")]
    fn double_free_panics() {
        let mut a = Arena::new();
        let id = a.insert(1);
        a.remove(id);
        a.remove(id);
    }
}
