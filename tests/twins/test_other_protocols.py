"""scripts/other_protocols.py: matching the exact test images to their JPEG copies in the study's test split."""
import numpy as np

from scripts import other_protocols
from srtwins.data.cifar import JpegRow


def test_the_kth_exact_image_of_a_class_is_that_class_kth_jpeg_test_image():
    """Exact labels 1,0,1 in official order are test/b/0000, test/a/0000, test/b/0001; a row the split keeps out
    of the test set gives -1."""
    classes = ["a", "b"]
    paths = ["train/a/0000.jpg", "train/b/0000.jpg", "test/a/0000.jpg", "test/a/0001.jpg", "test/b/0000.jpg",
             "test/b/0001.jpg"]
    rows = [JpegRow(p, classes.index(p.split("/")[1]), "", "") for p in paths]
    test_index = np.array([1, 2, 4, 5])  # pool rows of the study's test split (train/b/0000 among them)
    pos = other_protocols.exact_positions(rows, classes, test_index, np.array([1, 0, 1]))
    np.testing.assert_array_equal(pos, [2, 1, 3])
    pos = other_protocols.exact_positions(rows, classes, np.array([1, 4]), np.array([1, 0, 1]))
    np.testing.assert_array_equal(pos, [1, -1, -1])
