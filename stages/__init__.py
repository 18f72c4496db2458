"""The pipeline's stages, one per dvc.yaml stage: ``python -m stages.<name>``.

TensorFlow's C++ logs are off unless you set TF_CPP_MIN_LOG_LEVEL (0 shows them all). Its CUDA probe prints
two lines before it reads the setting; they stay, and on a machine without a GPU they say so truly."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
