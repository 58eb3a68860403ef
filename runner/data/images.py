"""Image classification data read from their standard files: CIFAR-10 python batches and
Fashion-MNIST IDX files.  A pair of classes becomes a binary task; pixels (scaled to [0, 1]) are
reduced by PCA to ``pca_dim`` features (``pca_dim: null`` keeps the raw pixels).

- CIFAR-10: ``<root>/cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta}`` (pickles with
  ``b"data"``: N × 3072 uint8 and ``b"labels"``).  When missing and ``download`` is true, the
  official archive is fetched and its MD5 checked; without network the error says which file to put
  where.
- Fashion-MNIST: ``<root>/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]``; Debian's
  ``dataset-fashion-mnist`` installs them in ``/usr/share/datasets/fashion-mnist``.
"""
from __future__ import annotations

import gzip
import hashlib
import pickle
import shutil
import tarfile
from pathlib import Path
from typing import Sequence

import numpy as np

from runner.api import UserError, check
from runner.data.tabular import TabularDataset

CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR_DIR = "cifar-10-batches-py"
CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
FASHION_CLASSES = ("tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
                   "ankle_boot")
FASHION_ROOT = "/usr/share/datasets/fashion-mnist"


def pca_features(X: np.ndarray, dim: int | None, seed: int = 0) -> np.ndarray:
    """Scores of centred X on its top ``dim`` principal components.  Exact through the smaller of
    the covariance XᵀX and the Gram matrix XXᵀ when that side is ≤ 1000 (Xv_k = u_k σ_k);
    randomized SVD (seeded) beyond."""
    if dim is None or dim >= min(X.shape):
        return X
    dim = int(dim)
    Xc = X - X.mean(axis=0)
    if X.shape[1] <= 1000:
        _, vecs = np.linalg.eigh(Xc.T @ Xc)
        return Xc @ vecs[:, ::-1][:, :dim]
    if X.shape[0] <= 1000:
        vals, vecs = np.linalg.eigh(Xc @ Xc.T)
        return vecs[:, ::-1][:, :dim] * np.sqrt(np.maximum(vals[::-1][:dim], 0.0))
    from sklearn.decomposition import PCA

    return PCA(n_components=dim, svd_solver="randomized", random_state=seed).fit_transform(Xc)


def class_index(name, known: Sequence[str], dataset: str) -> int:
    """A class given by name or index → its index."""
    if isinstance(name, (int, np.integer)) and 0 <= int(name) < len(known):
        return int(name)
    if str(name) in known:
        return known.index(str(name))
    raise UserError(f"unknown {dataset} class {name!r}; known: {', '.join(known)}")


class ImagePairDataset(TabularDataset):
    """Base: two classes of an image set, pixels in [0, 1], optional PCA; ``y``: classes[0] → 0."""

    known: tuple[str, ...] = ()

    def __init__(self, root: str, classes: Sequence, split: str = "train", pca_dim: int | None = 50,
                 n_max: int | None = None, seed: int = 0):
        check(classes is not None and len(classes) == 2, f"dataset.classes must name 2 classes, got {classes}")
        check(split in ("train", "test", "all"), f"dataset.split must be train, test or all, got {split!r}")
        check(pca_dim is None or int(pca_dim) >= 1, f"dataset.pca_dim must be >= 1 or null, got {pca_dim}")
        check(n_max is None or int(n_max) >= 2, f"dataset.n_max must be >= 2 or null, got {n_max}")
        idx = [class_index(c, self.known, type(self).__name__) for c in classes]
        check(idx[0] != idx[1], f"dataset.classes must be two different classes, got {list(classes)}")
        super().__init__("binary_classification", [self.known[i] for i in idx])
        self.root = Path(str(root)).expanduser()
        self.split, self.seed = split, int(seed)
        self.pca_dim = None if pca_dim is None else int(pca_dim)
        self.n_max = None if n_max is None else int(n_max)
        self.provenance = f"file:{self.root}"

    def _images(self) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - interface
        """(N × pixels uint8, N integer labels) of ``self.split``."""
        raise NotImplementedError

    def _raw(self):
        pixels, labels = self._images()
        idx = [self.known.index(c) for c in self.classes]
        keep = np.flatnonzero(np.isin(labels, idx))
        if self.n_max is not None and len(keep) > self.n_max:
            rng = np.random.default_rng(self.seed)
            keep = np.sort(rng.choice(keep, size=self.n_max, replace=False))
        X = pixels[keep].reshape(len(keep), -1).astype(np.float64) / 255.0
        X = pca_features(X, self.pca_dim, self.seed)
        y = np.asarray(self.known)[labels[keep]]
        return X, y, [f"pc{i}" for i in range(X.shape[1])]

    def describe(self) -> dict:
        return {**super().describe(), "classes": self.classes, "pca_dim": self.pca_dim}


# -- CIFAR-10 -------------------------------------------------------------------------------------

def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python batch → (N × 3072 uint8, N labels)."""
    with open(path, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    data = np.asarray(batch[b"data"], dtype=np.uint8)
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise UserError(f"{path} is not a CIFAR-10 python batch (data {data.shape}, {len(labels)} labels)")
    return data, labels


def md5sum(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch_cifar(root: Path, url: str = CIFAR_URL, md5: str = CIFAR_MD5, timeout: float = 20.0) -> Path:
    """``<root>/cifar-10-batches-py``: extracted from ``<root>/cifar-10-python.tar.gz`` if present,
    else downloaded from ``url`` (MD5-checked).  Fails with one line when neither works."""
    folder = root / CIFAR_DIR
    if (folder / "data_batch_1").exists():
        return folder
    archive = root / "cifar-10-python.tar.gz"
    where = (f"put {archive.name} ({CIFAR_URL}) or its extracted {CIFAR_DIR}/ folder in {root} "
             f"(set dataset.root)")
    if not archive.exists():
        if url is None:
            raise UserError(f"CIFAR-10 not found: {where}")
        import urllib.request

        root.mkdir(parents=True, exist_ok=True)
        part = archive.with_suffix(".part")
        try:
            with urllib.request.urlopen(url, timeout=timeout) as src, open(part, "wb") as dst:
                shutil.copyfileobj(src, dst)
        except OSError as err:
            part.unlink(missing_ok=True)
            raise UserError(f"CIFAR-10 not found and download failed ({err.__class__.__name__}): {where}") from None
        part.rename(archive)
    if md5 and md5sum(archive) != md5:
        raise UserError(f"{archive} fails its MD5 check (expected {md5}); delete it and {where}")
    with tarfile.open(archive, "r:gz") as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(CIFAR_DIR + "/") and m.isfile()]
        tar.extractall(root, members=members, filter="data")
    if not (folder / "data_batch_1").exists():
        raise UserError(f"{archive} holds no {CIFAR_DIR}/data_batch_1: {where}")
    return folder


class CifarDataset(ImagePairDataset):
    """Two CIFAR-10 classes (``cat, dog`` by default; ``automobile, truck`` too), PCA of the pixels."""

    known = CIFAR_CLASSES

    def __init__(self, root: str = "data/cifar10", classes: Sequence = ("cat", "dog"), split: str = "train",
                 pca_dim: int | None = 50, n_max: int | None = None, seed: int = 0, download: bool = True,
                 url: str = CIFAR_URL, md5: str = CIFAR_MD5):
        super().__init__(root, classes, split, pca_dim, n_max, seed)
        self.url = url if download else None
        self.md5 = md5

    def _images(self):
        folder = fetch_cifar(self.root, self.url, self.md5)
        names = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
        files = names["train"] + names["test"] if self.split == "all" else names[self.split]
        missing = [f for f in files if not (folder / f).exists()]
        check(not missing, f"CIFAR-10 batch file(s) missing in {folder}: {', '.join(missing)}")
        parts = [read_cifar_batch(folder / f) for f in files]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


# -- Fashion-MNIST --------------------------------------------------------------------------------

IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (optionally gzipped): magic 0x0000TTNN (T = type code, N = ndim), N big-endian
    int32 sizes, then the data."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_DTYPES:
        raise UserError(f"{path} is not an IDX file (bad magic number)")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(IDX_DTYPES[raw[2]])
    offset = 4 + 4 * ndim
    count = int(np.prod(shape))
    if len(raw) - offset != count * dtype.itemsize:
        raise UserError(f"{path}: size does not match its header {shape}")
    return np.frombuffer(raw, dtype=dtype, offset=offset, count=count).reshape(shape)


def find_idx(root: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem):
        if (root / name).exists():
            return root / name
    raise UserError(f"Fashion-MNIST file {stem}.gz not found in {root}: `apt-get install dataset-fashion-mnist` "
                    f"(installs {FASHION_ROOT}) or `make data`, or set dataset.root to the folder holding it")


class FashionMnistDataset(ImagePairDataset):
    """Two Fashion-MNIST classes (T-shirt vs shirt by default), PCA of the 784 pixels."""

    known = FASHION_CLASSES

    def __init__(self, root: str = FASHION_ROOT, classes: Sequence = ("tshirt", "shirt"), split: str = "train",
                 pca_dim: int | None = 50, n_max: int | None = None, seed: int = 0):
        super().__init__(root, classes, split, pca_dim, n_max, seed)

    def _images(self):
        prefixes = {"train": ["train"], "test": ["t10k"], "all": ["train", "t10k"]}[self.split]
        images, labels = [], []
        for p in prefixes:
            img = read_idx(find_idx(self.root, f"{p}-images-idx3-ubyte"))
            lab = read_idx(find_idx(self.root, f"{p}-labels-idx1-ubyte"))
            check(img.ndim == 3 and lab.ndim == 1 and len(img) == len(lab),
                  f"Fashion-MNIST {p} files in {self.root} do not match ({img.shape}, {lab.shape})")
            images.append(img.reshape(len(img), -1))
            labels.append(lab.astype(np.int64))
        return np.concatenate(images), np.concatenate(labels)
