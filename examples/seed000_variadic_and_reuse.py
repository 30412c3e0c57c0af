"""Seed 000 (DeZero steps 13-14): variadic inputs and gradient accumulation on reuse.

z = x**2 + y**2 at (2, 3) gives 13 with gradients 4 and 6; x + x gives 2; (x + x) + x gives 3.
"""

import symdiff as sd


def sum_of_squares() -> tuple[float, tuple[float, float]]:
    x, y = sd.var("x"), sd.var("y")
    z = sd.add(sd.square(x), sd.square(y))
    return sd.compile(z, wrt=[x, y])(2.0, 3.0)


def reuse(times: int) -> float:
    x = sd.var("x")
    y = x
    for _ in range(times - 1):
        y = sd.add(y, x)
    return sd.compile(y, wrt=[x])(3.0)[1][0]


if __name__ == "__main__":
    value, (gx, gy) = sum_of_squares()
    print(f"z = x^2 + y^2 at (2, 3): {value}, dz/dx = {gx}, dz/dy = {gy}")
    print(f"d(x + x)/dx = {reuse(2)}")
    print(f"d((x + x) + x)/dx = {reuse(3)}")
