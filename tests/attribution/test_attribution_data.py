"""Image and R data readers: CIFAR-10 python batches (tiny archive built here in the real format),
Fashion-MNIST IDX files, kernlab spam (skipped when the Debian sources are absent)."""
import gzip
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest

from runner.api import RunContext, UserError
from runner.data.images import (CIFAR_CLASSES, CifarDataset, FashionMnistDataset, md5sum, read_idx)
from runner.data.rdata_sets import RDataDataset

FASHION = Path("/usr/share/datasets/fashion-mnist")
SPAM_ROOT = Path(__file__).resolve().parents[2] / "data" / "deb"


def write_cifar(root: Path, per_batch: int = 20, seed: int = 0) -> Path:
    """A cifar-10-batches-py folder in the real pickle format (5 train batches, test, meta)."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        labels = [int(v) for v in rng.integers(0, 10, per_batch)]
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        data[:, :1024] = np.array(labels, dtype=np.uint8)[:, None] * 20   # red channel encodes the label
        batch = {b"batch_label": name.encode(), b"labels": labels, b"data": data,
                 b"filenames": [f"img{i}.png".encode() for i in range(per_batch)]}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f, protocol=2)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": [c.encode() for c in CIFAR_CLASSES], b"num_vis": 3072}, f, protocol=2)
    return folder


def test_cifar_reads_python_batches(tmp_path):
    folder = write_cifar(tmp_path)
    ds = CifarDataset(root=str(tmp_path), classes=["cat", "dog"], pca_dim=4, download=False)
    X, y = ds.X, ds.y
    raw = [pickle.load(open(folder / f"data_batch_{i}", "rb"), encoding="bytes") for i in range(1, 6)]
    labels = np.concatenate([b[b"labels"] for b in raw])
    assert X.shape == (int(np.isin(labels, [3, 5]).sum()), 4)
    assert y.sum() == (labels == 5).sum()                     # dog → 1, cat → 0
    raw_px = CifarDataset(root=str(tmp_path), classes=["automobile", "truck"], pca_dim=None, download=False)
    assert raw_px.X.shape[1] == 3072 and raw_px.X.max() <= 1.0
    # the red channel encodes the label: truck (9) pixels are brighter than automobile (1) pixels
    assert raw_px.X[raw_px.y == 1, 0].min() > raw_px.X[raw_px.y == 0, 0].max()
    assert raw_px.provenance == f"file:{tmp_path}"


def test_cifar_archive_download_checksum_and_errors(tmp_path):
    src = tmp_path / "src"
    write_cifar(src)
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    dest = tmp_path / "dest"
    ds = CifarDataset(root=str(dest), pca_dim=3, url=archive.as_uri(), md5=md5sum(archive))
    assert ds.X.shape[1] == 3 and (dest / "cifar-10-batches-py" / "test_batch").exists()
    bad = tmp_path / "bad"
    with pytest.raises(UserError, match="MD5"):
        _ = CifarDataset(root=str(bad), url=archive.as_uri(), md5="0" * 32).X
    with pytest.raises(UserError, match="cifar-10-python.tar.gz") as err:
        _ = CifarDataset(root=str(tmp_path / "none"), download=False).X
    assert "\n" not in str(err.value)
    with pytest.raises(UserError, match="download failed"):
        _ = CifarDataset(root=str(tmp_path / "none2"), url=(tmp_path / "missing.tgz").as_uri()).X
    with pytest.raises(UserError, match="unknown"):
        CifarDataset(root=str(tmp_path), classes=["cat", "unicorn"])


def write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">i", s) for s in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_idx_reader(tmp_path):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (30, 28, 28))
    lab = np.arange(30) % 10
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", img)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", lab)
    np.testing.assert_array_equal(read_idx(tmp_path / "train-images-idx3-ubyte.gz"), img)
    ds = FashionMnistDataset(root=str(tmp_path), classes=["tshirt", "shirt"], pca_dim=None)
    assert ds.X.shape == (6, 784) and ds.y.tolist() == [0, 1, 0, 1, 0, 1]
    with pytest.raises(UserError, match="dataset-fashion-mnist"):
        _ = FashionMnistDataset(root=str(tmp_path), split="test").X
    (tmp_path / "junk.gz").write_bytes(gzip.compress(b"\x01\x02\x03\x04"))
    with pytest.raises(UserError, match="IDX"):
        read_idx(tmp_path / "junk.gz")


@pytest.mark.skipif(not (FASHION / "train-images-idx3-ubyte.gz").exists(),
                    reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist / make data)")
def test_real_fashion_mnist_pair_through_the_method(tmp_path):
    from methods.attribution.method import InfluenceRemoval

    ds = FashionMnistDataset(pca_dim=20, n_max=600)
    ds.name = "fashion_mnist"
    assert ds.X.shape == (600, 20) and 0.3 < ds.y.mean() < 0.7
    mt = InfluenceRemoval(n_sizes=3, strategy="random").run(
        ds, RunContext(tmp_path, seed=0, show_progress=False)).metrics
    assert mt["d"] == 21 and mt["n_train"] == 42 and np.isfinite(mt["rif/slope"])


@pytest.mark.skipif(not (SPAM_ROOT / "usr/lib/R/site-library/kernlab/data/spam.rda").exists(),
                    reason="kernlab .deb not unpacked into data/deb (make data)")
def test_real_spam():
    ds = RDataDataset("kernlab", "spam", "type", root=str(SPAM_ROOT), classes=["nonspam", "spam"])
    assert ds.X.shape == (4601, 57) and int(ds.y.sum()) == 1813


def test_missing_rda_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="make data"):
        _ = RDataDataset("kernlab", "spam", "type", root=str(tmp_path)).X


@pytest.mark.parametrize("shape", [(50, 8), (8, 50)])
def test_pca_scores_match_svd(shape):
    from runner.data.images import pca_features

    X = np.random.default_rng(0).standard_normal(shape) @ np.diag(np.linspace(3, 1, shape[1]))
    Z = pca_features(X, 3)
    U, S, _ = np.linalg.svd(X - X.mean(0), full_matrices=False)
    np.testing.assert_allclose(np.abs(Z), np.abs(U[:, :3] * S[:3]), rtol=1e-8, atol=1e-10)
