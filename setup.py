"""Package layout: runner, methods, experiments, and the config tree ``conf/`` as ``mlrun_conf``."""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["runner*", "methods*", "experiments*"]) + ["mlrun_conf"],
    package_dir={"mlrun_conf": "conf"},
)
