"""python -m tinygrad_ko: the same command line as tinygrad-ko."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
