/** Lengths of time in milliseconds, as the schedule evaluator counts them. */
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const WEEK = 7 * DAY;
/** A leap year: spans measured in years are upper bounds. */
export const YEAR = 366 * DAY;
