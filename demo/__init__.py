"""The fictional demo park: seed_demo and demo_payroll (make demo)."""
