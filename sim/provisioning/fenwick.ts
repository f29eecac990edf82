/** A Fenwick (binary indexed) tree of counts over 0, 1, 2, … that grows as indexes grow. */
export class GrowableFenwick {
  private tree = new Int32Array(1024);
  private values = new Int32Array(1024);
  private sum = 0;

  get total(): number {
    return this.sum;
  }

  add(index: number, delta: number): void {
    if (index >= this.values.length) this.grow(index);
    this.values[index] = (this.values[index] as number) + delta;
    this.sum += delta;
    for (let i = index + 1; i <= this.tree.length; i += i & -i)
      this.tree[i - 1] = (this.tree[i - 1] as number) + delta;
  }

  /** The sum of counts at indexes 0..index. */
  prefix(index: number): number {
    let s = 0;
    for (let i = Math.min(index + 1, this.tree.length); i > 0; i -= i & -i) s += this.tree[i - 1] as number;
    return s;
  }

  private grow(index: number): void {
    let size = this.values.length;
    while (size <= index) size *= 2;
    const values = new Int32Array(size);
    values.set(this.values);
    this.values = values;
    // Rebuild in O(n): each node passes its sum to its parent.
    const tree = new Int32Array(size);
    tree.set(values);
    for (let i = 1; i <= size; i++) {
      const parent = i + (i & -i);
      if (parent <= size) tree[parent - 1] = (tree[parent - 1] as number) + (tree[i - 1] as number);
    }
    this.tree = tree;
  }
}
