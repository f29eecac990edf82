/** Pending jobs in acquisition order (oldest first), with cheap removal from anywhere. */

interface Entry<T> {
  readonly item: T;
  readonly createdMs: number;
  removed: boolean;
}

export class PendingList<T extends { readonly id: string }> {
  private entries: Entry<T>[] = [];
  private readonly byId = new Map<string, Entry<T>>();
  private head = 0;
  private dead = 0;

  get size(): number {
    return this.byId.size;
  }

  /** Inserted by creation time; jobs usually arrive in that order, so this is an append. */
  insert(item: T, createdMs: number): void {
    const entry: Entry<T> = { item, createdMs, removed: false };
    let i = this.entries.length;
    while (i > this.head && (this.entries[i - 1] as Entry<T>).createdMs > createdMs) i--;
    if (i === this.entries.length) this.entries.push(entry);
    else this.entries.splice(i, 0, entry);
    this.byId.set(item.id, entry);
  }

  remove(id: string): boolean {
    const entry = this.byId.get(id);
    if (entry === undefined) return false;
    entry.removed = true;
    this.byId.delete(id);
    this.dead++;
    while (this.head < this.entries.length && (this.entries[this.head] as Entry<T>).removed) {
      this.head++;
      this.dead--;
    }
    if (this.dead > 1024 && this.dead > this.byId.size) this.compact();
    return true;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** Live items, oldest first. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.head; i < this.entries.length; i++) {
      const entry = this.entries[i] as Entry<T>;
      if (!entry.removed) yield entry.item;
    }
  }

  find(predicate: (item: T) => boolean): T | undefined {
    for (const item of this) if (predicate(item)) return item;
    return undefined;
  }

  private compact(): void {
    this.entries = this.entries.slice(this.head).filter((e) => !e.removed);
    this.head = 0;
    this.dead = 0;
  }
}
