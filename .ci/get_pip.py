"""Offline stand-in for the pip bootstrap script that `ansible-test --venv` downloads.

ansible-test looks for ~/.ansible/test/cache/get_pip_<version>.py before it
tries the network (unreachable here); `make sanity` copies this file there.
It installs pip from the interpreter's bundled wheel (ensurepip), then installs
the packages ansible-test asks for (e.g. pip==24.2) with the machine's own pip
configuration: ensurepip sets PIP_CONFIG_FILE=/dev/null, which would hide the
machine's pip.conf (its index mirrors and CA bundle), so it is dropped.
"""
import os
import subprocess
import sys


def main():
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
    env = dict(os.environ)
    env.pop("PIP_CONFIG_FILE", None)
    # get-pip.py options that `pip install` does not know.
    args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet"] + args, env=env)


if __name__ == "__main__":
    main()
