//! Maintenance-window calendars (placeholder until the calendar lands).
