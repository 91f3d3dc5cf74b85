"""Accounts: people who sign in, their membership and role in each plan, and invitations."""
