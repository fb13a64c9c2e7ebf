package geom

import "testing"

func TestBoxGeometry(t *testing.T) {
	b := Box{10, 20, 30, 60}
	if b.W() != 20 || b.H() != 40 || b.Area() != 800 || b.Center() != (Point{20, 40}) {
		t.Fatalf("w %v h %v area %v centre %v", b.W(), b.H(), b.Area(), b.Center())
	}
	if g := b.Grow(0.5, 0.25); g != (Box{0, 10, 40, 70}) {
		t.Fatalf("grow %v", g)
	}
	if c := (Box{-5, -5, 120, 50}).Clip(100, 40); c != (Box{0, 0, 100, 40}) {
		t.Fatalf("clip %v", c)
	}
	if s := b.Scale(2); s != (Box{20, 40, 60, 120}) {
		t.Fatalf("scale %v", s)
	}
	if (Box{5, 5, 1, 1}).Area() != 0 {
		t.Fatal("an inverted box has no area")
	}
}

func TestIoU(t *testing.T) {
	a := Box{0, 0, 10, 10}
	for _, tc := range []struct {
		b    Box
		want float32
	}{
		{a, 1},
		{Box{5, 0, 15, 10}, 50.0 / 150.0},
		{Box{20, 20, 30, 30}, 0},
		{Box{0, 0, 0, 0}, 0},
	} {
		if got := a.IoU(tc.b); got < tc.want-1e-6 || got > tc.want+1e-6 {
			t.Errorf("IoU(%v) = %v, want %v", tc.b, got, tc.want)
		}
	}
}
