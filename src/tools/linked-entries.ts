/** An entry of a LinkedEntries list: the object its owner keeps, linked through its own two fields. */
export interface Linked<T> {
  prev: T | undefined;
  next: T | undefined;
}

/**
 * Work in flight (running calls, calls waiting for the quota store), kept in a doubly linked list through the entries
 * themselves, oldest first.
 *
 * Not a Set: a long-lived Set that every call is added to and deleted from made the objects of calls in flight
 * survive a second scavenge, so V8 promoted them to the old generation. Linking the entries costs plain property
 * writes.
 */
export class LinkedEntries<T extends Linked<T>> {
  private first: T | undefined;
  private last: T | undefined;

  /** The oldest entry; walk on with `next`. */
  get head(): T | undefined {
    return this.first;
  }

  /** Appends `entry` (the newest); returns it. */
  push(entry: T): T {
    entry.prev = this.last;
    entry.next = undefined;
    if (this.last) this.last.next = entry;
    else this.first = entry;
    this.last = entry;
    return entry;
  }

  /** Takes `entry` out of the list; nothing happens to one already taken out. */
  remove(entry: T): void {
    if (entry.prev) entry.prev.next = entry.next;
    else if (this.first === entry) this.first = entry.next;
    else return;
    if (entry.next) entry.next.prev = entry.prev;
    else this.last = entry.prev;
    entry.prev = undefined;
    entry.next = undefined;
  }
}
