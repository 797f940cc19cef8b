package io.toma.bench;

/** How big a run is: the build's smoke test, {@code --quick} (under a minute), or the full figures. */
public enum Mode {
  SMOKE,
  QUICK,
  FULL;

  public int pick(int smoke, int quick, int full) {
    return switch (this) {
      case SMOKE -> smoke;
      case QUICK -> quick;
      case FULL -> full;
    };
  }
}
