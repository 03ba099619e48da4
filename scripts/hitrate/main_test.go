package main

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestZipf checks the generator against the Zipf law it implements: rank
// i is drawn with probability (1/(i+1)^theta) / zeta(n).
func TestZipf(t *testing.T) {
	const n, draws = 1000, 2_000_000
	for _, theta := range []float64{0.99, 0.8, 1.2} {
		z := newZipf(n, theta)
		r := rand.New(rand.NewPCG(1, 2))
		counts := make([]int, n)
		for i := 0; i < draws; i++ {
			k := z.next(r)
			if k < 0 || k >= n {
				t.Fatalf("theta %v: rank %d out of range", theta, k)
			}
			counts[k]++
		}
		for _, rank := range []int{0, 1, 9, 99} {
			want := draws / math.Pow(float64(rank+1), theta) / z.zetan
			if got := float64(counts[rank]); math.Abs(got-want) > 0.1*want+50 {
				t.Errorf("theta %v: rank %d drawn %.0f times, want about %.0f", theta, rank, got, want)
			}
		}
	}
}
