"""What Stripe and Tofupay share: the Stripe-style adapter and simulator machinery."""
