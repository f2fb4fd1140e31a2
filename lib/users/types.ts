/** What a user id may be (the records themselves are the store's: lib/store/types.ts). */
export const USER_ID = /^[A-Za-z0-9_.@-]{1,64}$/;
