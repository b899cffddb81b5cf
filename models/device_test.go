package models_test

import (
	"testing"
	"time"

	"beerlocker/models"
)

func TestNormalizeUserCode(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"WDJB-MJHT", "WDJBMJHT", true},
		{"wdjb-mjht", "WDJBMJHT", true},
		{"wdjbmjht", "WDJBMJHT", true},
		{" WD JB-MJ HT ", "WDJBMJHT", true},
		{"W-D-J-B-M-J-H-T", "WDJBMJHT", true},
		{"WDJB-MJH", "", false},                               // too short
		{"WDJB-MJHTB", "", false},                             // too long
		{"WAJB-MJHT", "", false},                              // a vowel
		{"WDJB-MJH1", "", false},                              // a digit
		{"WDJB_MJHT", "", false},                              // another separator
		{"ẞDJB-MJHT", "", false},                              // upper-cases to something else
		{"", "", false},                                       // nothing
		{"--------------------------------------", "", false}, // long
	} {
		got, ok := models.NormalizeUserCode(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("NormalizeUserCode(%q) = %q, %v, want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	if got := models.FormatUserCode("WDJBMJHT"); got != "WDJB-MJHT" {
		t.Errorf("FormatUserCode = %q, want WDJB-MJHT", got)
	}
}

func TestPollTooSoon(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	d := &models.DeviceCode{Interval: 5 * time.Second}
	if d.PollTooSoon(at) {
		t.Error("the first poll is too soon")
	}
	d.LastPollAt = at
	for _, tc := range []struct {
		after time.Duration
		want  bool
	}{{0, true}, {3999 * time.Millisecond, true}, {4 * time.Second, false}, {5 * time.Second, false}, {time.Hour, false}} {
		if got := d.PollTooSoon(at.Add(tc.after)); got != tc.want {
			t.Errorf("PollTooSoon(+%v) = %v, want %v", tc.after, got, tc.want)
		}
	}
}
