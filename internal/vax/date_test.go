package vax_test

import (
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

func TestParseCowinDate(t *testing.T) {
	tests := []struct {
		in      string
		want    vax.Date
		wantErr bool
	}{
		{"11-07-2021", vax.Date{Year: 2021, Month: 7, Day: 11}, false},
		{"11-07-21", vax.Date{Year: 2021, Month: 7, Day: 11}, false},
		{"29-02-2024", vax.Date{Year: 2024, Month: 2, Day: 29}, false},
		{"29-02-2023", vax.Date{}, true},
		{"45-13-2021", vax.Date{}, true},
		{"2021-07-11", vax.Date{}, true},
		{"1-7-2021", vax.Date{}, true},
		{"aa-07-2021", vax.Date{}, true},
		{"11-07--021", vax.Date{}, true},
		{"00-07-2021", vax.Date{}, true},
		{"", vax.Date{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := vax.ParseCowinDate(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseCowinDate(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err != nil && vax.ErrorCode(err) != vax.Invalid {
				t.Errorf("error code = %s, want Invalid", vax.ErrorCode(err))
			}
			if got != tt.want {
				t.Errorf("ParseCowinDate(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestDateArithmetic(t *testing.T) {
	d := vax.Date{Year: 2021, Month: 12, Day: 30}
	if got, want := d.AddDays(3), (vax.Date{Year: 2022, Month: 1, Day: 2}); got != want {
		t.Errorf("AddDays = %v, want %v", got, want)
	}
	if got := d.DaysUntil(d.AddDays(84)); got != 84 {
		t.Errorf("DaysUntil = %d, want 84", got)
	}
	if got, want := d.Cowin(), "30-12-2021"; got != want {
		t.Errorf("Cowin = %q, want %q", got, want)
	}
	if got, want := d.String(), "2021-12-30"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	iso, err := vax.ParseISODate("2021-12-30")
	if err != nil || iso != d {
		t.Errorf("ParseISODate = %v, %v; want %v", iso, err, d)
	}
}

func TestTodayUsesZone(t *testing.T) {
	ist, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	// 20:00 UTC on 1 June is 01:30 on 2 June in India.
	c := vax.NewManualClock(time.Date(2021, 6, 1, 20, 0, 0, 0, time.UTC))
	if got, want := vax.Today(c, ist), (vax.Date{Year: 2021, Month: 6, Day: 2}); got != want {
		t.Errorf("Today = %v, want %v", got, want)
	}
	if got, want := vax.Today(c, time.UTC), (vax.Date{Year: 2021, Month: 6, Day: 1}); got != want {
		t.Errorf("Today(UTC) = %v, want %v", got, want)
	}
}
