import type { TrackedFile } from './tracked-file.js';

/**
 * The files a tail service has open, found by checkpoint key, by inode and by the bot paths
 * that lead to them. A file reachable under two matching paths (a symlink and its target) is
 * one entry with two paths; a rotated file has no path left.
 */
export class FileRegistry {
  private readonly byKey = new Map<string, TrackedFile>();
  private readonly byInode = new Map<string, TrackedFile>();
  private readonly byPath = new Map<string, TrackedFile>();

  add(file: TrackedFile): void {
    this.byKey.set(file.key, file);
    this.byInode.set(file.inode, file);
  }

  /** Forgets a file and every path leading to it. */
  remove(file: TrackedFile): void {
    if (this.byKey.get(file.key) === file) this.byKey.delete(file.key);
    if (this.byInode.get(file.inode) === file) this.byInode.delete(file.inode);
    for (const path of this.pathsOf(file)) this.byPath.delete(path);
  }

  get(key: string): TrackedFile | undefined {
    return this.byKey.get(key);
  }

  /** True when `file` is the registered file for its key (not released or replaced). */
  isCurrent(file: TrackedFile): boolean {
    return this.byKey.get(file.key) === file;
  }

  withInode(inode: string): TrackedFile | undefined {
    return this.byInode.get(inode);
  }

  at(path: string): TrackedFile | undefined {
    return this.byPath.get(path);
  }

  linkPath(path: string, file: TrackedFile): void {
    this.byPath.set(path, file);
  }

  /** Removes a path; returns the file it led to. */
  unlinkPath(path: string): TrackedFile | undefined {
    const file = this.byPath.get(path);
    this.byPath.delete(path);
    return file;
  }

  /** Returns every path that leads to a live file. */
  paths(): string[] {
    return [...this.byPath.keys()];
  }

  /** Returns the files that at least one bot path leads to. */
  linkedFiles(): Set<TrackedFile> {
    return new Set(this.byPath.values());
  }

  pathsOf(file: TrackedFile): string[] {
    const paths: string[] = [];
    for (const [path, entry] of this.byPath) if (entry === file) paths.push(path);
    return paths;
  }

  files(): TrackedFile[] {
    return [...this.byKey.values()];
  }

  /** `dev:ino` of every open file, so searches skip the files of other checkpoints. */
  inodes(): Set<string> {
    return new Set(this.byInode.keys());
  }

  get size(): number {
    return this.byKey.size;
  }

  clear(): void {
    this.byKey.clear();
    this.byInode.clear();
    this.byPath.clear();
  }
}
