package engine

import (
	"testing"
	"time"
)

// TestTouchSubscribers: every OnTouch function is told of each commit, with
// the client set by SetClient; only OnTouchAll functions are told of keys
// removed because an access found them expired.
func TestTouchSubscribers(t *testing.T) {
	s, err := Open(Config{Hz: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var plain, all []Touched
	s.OnTouch(func(ts []Touched) { plain = append(plain, ts...) })
	s.OnTouchAll(func(ts []Touched) { all = append(all, ts...) })

	// e is written already expired, so the Get that follows removes it
	// as an access does (nothing else can: the transaction holds it).
	now := time.Now().UnixMilli()
	err = s.Update(func(tx *Tx) error {
		tx.SetClient(7)
		if err := tx.Set("0", "k", Value{Data: "v"}); err != nil {
			return err
		}
		if err := tx.Set("0", "e", Value{Data: "v", ExpireAt: now - 1000}); err != nil {
			return err
		}
		if _, found, _ := tx.Get("0", "e"); found {
			t.Errorf("expired key found")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	k := Touched{Namespace: "0", Key: "k", Client: 7}
	e := Touched{Namespace: "0", Key: "e", Client: 7}
	lazy := Touched{Namespace: "0", Key: "e", Lazy: true}
	if len(plain) != 2 || plain[0] != k || plain[1] != e {
		t.Errorf("OnTouch saw %v, want [%v %v]", plain, k, e)
	}
	if len(all) != 3 || all[0] != k || all[1] != e || all[2] != lazy {
		t.Errorf("OnTouchAll saw %v, want [%v %v %v]", all, k, e, lazy)
	}
	plain, all = nil, nil

	// A rolled back transaction reports nothing.
	s.Update(func(tx *Tx) error {
		tx.Set("0", "k", Value{Data: "w"})
		return ErrRollback
	})
	if len(plain)+len(all) != 0 {
		t.Errorf("rollback reported %v %v", plain, all)
	}

	// SetHz and SetAutoRewrite change the running store.
	s.SetHz(1000)
	if s.hz.Load() != 500 {
		t.Errorf("hz %d, want the cap 500", s.hz.Load())
	}
	s.SetAutoRewrite(0, 1)
	if s.autoPct.Load() != 0 || s.autoMin.Load() != 1 {
		t.Errorf("auto rewrite %d %d", s.autoPct.Load(), s.autoMin.Load())
	}
}
