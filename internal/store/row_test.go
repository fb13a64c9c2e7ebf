package store

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"liveness/internal/scan"
)

func TestRowRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	company := uuid.New()
	for i := range 50 {
		in := genScan(rng, company, i)
		r, err := toRow(in)
		if err != nil {
			t.Fatalf("scan %d: toRow: %v", i, err)
		}
		out, err := fromRow(r)
		if err != nil {
			t.Fatalf("scan %d: fromRow: %v", i, err)
		}
		if !reflect.DeepEqual(normalize(in), out) {
			t.Fatalf("scan %d: round trip differs:\n in=%+v\nout=%+v", i, normalize(in), out)
		}
	}
}

// normalize is what the store is documented to give back: UTC times and a
// non-nil faces slice.
func normalize(sr scan.ScanResult) scan.ScanResult {
	sr.CreatedDate = sr.CreatedDate.UTC()
	if sr.UpdatedDate != nil {
		u := sr.UpdatedDate.UTC()
		sr.UpdatedDate = &u
	}
	if sr.Faces == nil {
		sr.Faces = []scan.Face{}
	}
	return sr
}

func TestRowPrimaryFaceColumns(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	in := genScan(rng, uuid.New(), 4) // i%5 == 4: two faces
	r, err := toRow(in)
	if err != nil {
		t.Fatal(err)
	}
	f := in.Faces[0]
	if r.FaceCount != 2 || r.FaceX1 != int32(f.X1) || r.FaceY2 != int32(f.Y2) ||
		r.FaceLiveness != f.Liveness || r.FaceYaw != f.Yaw || r.FaceMouthOpened != f.MouthOpened {
		t.Fatalf("primary face columns %+v do not match faces[0] %+v", r, f)
	}
	var faces []scan.Face
	if err := json.Unmarshal([]byte(r.Faces), &faces); err != nil || len(faces) != 2 ||
		!slices.Equal(faces[1].Landmarks68, in.Faces[1].Landmarks68) {
		t.Fatalf("faces JSON does not hold both faces with landmarks: %v", err)
	}
}

func TestRowKeepsMilliseconds(t *testing.T) {
	in := genScan(rand.New(rand.NewPCG(5, 6)), uuid.New(), 9)
	loc := time.FixedZone("UTC+2", 2*3600)
	in.CreatedDate = time.Date(2026, 3, 4, 5, 6, 7, 891_234_567, loc)
	r, err := toRow(in)
	if err != nil {
		t.Fatal(err)
	}
	if r.CreatedDateMs != 891 || r.CreatedDate.Nanosecond() != 0 || r.CreatedDate.Hour() != 3 {
		t.Fatalf("created %v + %d ms", r.CreatedDate, r.CreatedDateMs)
	}
	out, _ := fromRow(r)
	if want := in.CreatedDate.Truncate(time.Millisecond); !out.CreatedDate.Equal(want) {
		t.Fatalf("created back %v, want %v", out.CreatedDate, want)
	}
}

func TestToRowRejects(t *testing.T) {
	base := genScan(rand.New(rand.NewPCG(7, 8)), uuid.New(), 0)
	cases := map[string]func(*scan.ScanResult){
		"bad channel":   func(s *scan.ScanResult) { s.SalesChannel = "FAX" },
		"empty result":  func(s *scan.ScanResult) { s.Result = "" },
		"bad quality":   func(s *scan.ScanResult) { s.Quality = "Great" },
		"zero created":  func(s *scan.ScanResult) { s.CreatedDate = time.Time{} },
		"negative size": func(s *scan.ScanResult) { s.ImageWidth = -1 },
	}
	for name, mutate := range cases {
		sr := base
		mutate(&sr)
		if _, err := toRow(sr); !errors.Is(err, ErrInvalidScan) {
			t.Errorf("%s: err = %v, want ErrInvalidScan", name, err)
		}
	}
}

func TestColumnsMatchMigration(t *testing.T) {
	ms, err := loadMigrations("`db`")
	if err != nil {
		t.Fatal(err)
	}
	ddl := ms[0].sql
	if !strings.Contains(ddl, "`db`.scans") {
		t.Fatalf("first migration does not create scans:\n%s", ddl)
	}
	for _, c := range scanColumns {
		if !strings.Contains(ddl, "\n    "+c+" ") {
			t.Errorf("column %s of row is not in %s", c, ms[0].name)
		}
	}
	if n := strings.Count(stripComments(ddl), "\n    "); n != len(scanColumns) {
		t.Errorf("%s defines %d columns, row has %d", ms[0].name, n, len(scanColumns))
	}
}

// columns hands the batch the row's fields in the table's column order and
// types: the i-th slice holds field i of every row.
func TestColumnsFollowTheRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var rows []Row
	for i := range 12 { // every shape genScan makes: updated or not, 0-2 faces
		r, err := NewRow(genScan(rng, uuid.New(), i))
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	cols := columns(rows)
	if len(cols) != len(scanColumns) {
		t.Fatalf("%d columns, want %d", len(cols), len(scanColumns))
	}
	for j, c := range cols {
		v := reflect.ValueOf(c)
		if v.Len() != len(rows) {
			t.Fatalf("column %s: %d values, want %d", scanColumns[j], v.Len(), len(rows))
		}
		for i := range rows {
			want := reflect.ValueOf(rows[i].r).Field(j)
			if got := v.Index(i); got.Type() != want.Type() || !reflect.DeepEqual(got.Interface(), want.Interface()) {
				t.Fatalf("column %s row %d: %v (%s), want field %s = %v", scanColumns[j], i, got, got.Type(),
					reflect.TypeFor[row]().Field(j).Name, want)
			}
		}
	}
}

// The hand-written faces JSON is what json.Marshal writes, byte for byte,
// across magnitudes that switch encoding/json between its two float forms.
func TestFacesJSONMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	mags := []float64{0, 1e-9, 1e-7, 1e-6, 0.5, 1, 123.456, 1e20, 1e21, 1e30}
	num := func() float64 {
		v := mags[rng.IntN(len(mags))] * (rng.Float64()*2 - 1) * 10
		if rng.IntN(10) == 0 {
			v = math.Copysign(0, -1)
		}
		return v
	}
	for i := range 500 {
		faces := make([]scan.Face, rng.IntN(3))
		if i%50 == 0 {
			faces = nil
		}
		for k := range faces {
			f := &faces[k]
			f.X1, f.Y1, f.X2, f.Y2 = rng.IntN(4000)-100, rng.IntN(4000), rng.IntN(1<<40), -rng.IntN(9)
			f.Liveness, f.Yaw, f.Roll, f.Pitch = num(), num(), num(), num()
			f.FaceQuality, f.FaceLuminance, f.EyeDistance = num(), num(), num()
			f.LeftEyeClosed, f.RightEyeClosed, f.FaceOcclusion, f.MouthOpened = num(), num(), num(), num()
			if rng.IntN(5) > 0 {
				f.Landmarks68 = make([]float32, scan.LandmarkCount)
				for j := range f.Landmarks68 {
					f.Landmarks68[j] = float32(num())
				}
			}
		}
		want, err := json.Marshal(faces)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendFacesJSON(nil, faces)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("faces %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func TestFacesJSONRefusesNonNumbers(t *testing.T) {
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := appendFacesJSON(nil, []scan.Face{{Yaw: v}}); err == nil {
			t.Errorf("yaw %v: no error", v)
		}
		lm := make([]float32, scan.LandmarkCount)
		lm[7] = float32(v)
		if _, err := appendFacesJSON(nil, []scan.Face{{Landmarks68: lm}}); err == nil {
			t.Errorf("landmark %v: no error", v)
		}
	}
}

// BenchmarkFacesJSON: the faces column of one scan, hand-written against
// encoding/json (go test -run '^$' -bench FacesJSON ./internal/store/).
func BenchmarkFacesJSON(b *testing.B) {
	sr := genScan(rand.New(rand.NewPCG(1, 2)), uuid.New(), 1)
	b.Run("append", func(b *testing.B) {
		for b.Loop() {
			if _, err := appendFacesJSON(make([]byte, 0, facesJSONSize), sr.Faces); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(sr.Faces); err != nil {
				b.Fatal(err)
			}
		}
	})
}
