package store

import (
	"testing"
)

func TestPlansAreVersioned(t *testing.T) {
	each(t, func(t *testing.T, s *Store, c *clock, dsn string) {
		at := c.Peek()
		p, err := s.CreatePlan(ctx, "checkout", "v1")
		must(t, err)
		if p.ID == 0 || p.Version != 1 || p.Name != "checkout" || p.YAML != "v1" || !p.Created.Equal(at) {
			t.Fatalf("CreatePlan = %+v, want version 1 created at %v", p, at)
		}
		other, err := s.CreatePlan(ctx, "search", "s1")
		must(t, err)
		p2, err := s.AddPlanVersion(ctx, p.ID, "v2")
		must(t, err)
		p3, err := s.AddPlanVersion(ctx, p.ID, "v3")
		must(t, err)
		if p2.Version != 2 || p3.Version != 3 || p3.Name != "checkout" {
			t.Fatalf("versions %d, %d (%q), want 2, 3 of checkout", p2.Version, p3.Version, p3.Name)
		}

		latest, err := s.GetPlan(ctx, p.ID, 0)
		must(t, err)
		if latest.Version != 3 || latest.YAML != "v3" || !latest.Created.Equal(p3.Created) {
			t.Fatalf("latest = %+v, want %+v", latest, p3)
		}
		v1, err := s.GetPlan(ctx, p.ID, 1)
		must(t, err)
		if v1 != p {
			t.Fatalf("version 1 = %+v, want %+v", v1, p)
		}

		versions, err := s.PlanVersions(ctx, p.ID)
		must(t, err)
		if len(versions) != 3 || versions[0].YAML != "v1" || versions[2].YAML != "v3" {
			t.Fatalf("PlanVersions = %+v", versions)
		}

		list, err := s.ListPlans(ctx)
		must(t, err)
		if len(list) != 2 || list[0].ID != p.ID || list[0].Version != 3 || list[1].ID != other.ID || list[1].Version != 1 {
			t.Fatalf("ListPlans = %+v, want checkout v3 then search v1", list)
		}
	})
}

func TestPlansNotFound(t *testing.T) {
	each(t, func(t *testing.T, s *Store, c *clock, dsn string) {
		p, err := s.CreatePlan(ctx, "checkout", "v1")
		must(t, err)
		_, err = s.GetPlan(ctx, p.ID+100, 0)
		wantErr(t, err, ErrNotFound, "GetPlan of an unknown plan")
		_, err = s.GetPlan(ctx, p.ID, 2)
		wantErr(t, err, ErrNotFound, "GetPlan of an unknown version")
		_, err = s.AddPlanVersion(ctx, p.ID+100, "x")
		wantErr(t, err, ErrNotFound, "AddPlanVersion of an unknown plan")
		_, err = s.PlanVersions(ctx, p.ID+100)
		wantErr(t, err, ErrNotFound, "PlanVersions of an unknown plan")
		list, err := s.ListPlans(ctx)
		must(t, err)
		if len(list) != 1 {
			t.Fatalf("a failed AddPlanVersion left %d plans", len(list))
		}
	})
}
