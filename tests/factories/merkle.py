"""Known answers for the RFC 9162 §2.1 Merkle tree (audit/merkle.py): the 8-leaf test tree of the Go and C++
Certificate Transparency implementations, its roots, inclusion paths and consistency proofs."""

from __future__ import annotations

from audit.merkle import leaf_hash

# The 8-leaf test tree of the Go and C++ Certificate Transparency implementations.
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
CT_HASHES = [leaf_hash(e) for e in CT_LEAVES]
CT_ROOTS = {
    0: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
H0 = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"  # leaf_hash(b"")
H1 = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"  # leaf_hash(b"\x00")
H4 = "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"  # leaf 4
H5 = "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"  # leaf 5
H23 = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"  # MTH(D[2:4])
H67 = "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"  # MTH(D[6:8])
H4567 = "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"  # MTH(D[4:8])
R4 = CT_ROOTS[4]
# (index, tree_size, path), indices 0-based (the Go test data numbers leaves from 1).
CT_INCLUSION = [
    (0, 1, []),
    (0, 8, [H1, H23, H4567]),
    (5, 8, [H4, H67, R4]),
    (2, 3, [CT_ROOTS[2]]),
    (1, 5, [H0, H23, H4]),
]
CT_CONSISTENCY = [
    (1, 1, []),
    (1, 8, [H1, H23, H4567]),
    (6, 8, [H5, H67, R4]),
    (2, 5, [H23, H4]),
]


def unhex(hashes: list[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in hashes]
