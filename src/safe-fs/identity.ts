/**
 * What a name held when lethe checked it: the device and inode number. A directory or file swapped in under the
 * same name (a rename, a link, a copy) has another identity, so comparing identities is how every safe-fs
 * operation tells "the thing I checked" from "something put in its place".
 */
export interface Identity {
  dev: number;
  ino: number;
}

/**
 * Just the identity of a stat result (no timestamps or sizes carried along).
 *
 * @example
 * const expect = identityOf(fstatSync(fd)); // later: openDirAt(parent, name, expect)
 */
export const identityOf = (st: Identity): Identity => ({ dev: st.dev, ino: st.ino });

/**
 * Whether two stat results (or identities) name the same inode.
 *
 * @example
 * if (!sameInode(fstatSync(fd), expected)) throw new PathChangedError("the file");
 */
export const sameInode = (a: Identity, b: Identity): boolean => a.dev === b.dev && a.ino === b.ino;
