"""Staff messages (消息): warnings, breaches, urgings, dispatches and approvals, with unread counts."""
