//go:build !race

package correlate_test

// raceDetector is true when the tests run with -race, which makes the
// shop's handlers several times more expensive.
const raceDetector = false
