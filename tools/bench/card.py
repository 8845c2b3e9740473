"""The GPU's name, versions and ceilings, printed as one JSON line by a sandboxed child that
runs only autodocket's own code (`tools.bench._card` reads it)."""
import json

from tools.bench.runtime import device_info
from tools.roofline import handed_down_ceilings

if __name__ == "__main__":
    print(json.dumps({"device": device_info("cuda"), "ceilings": handed_down_ceilings()}))
