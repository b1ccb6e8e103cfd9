/** Test helpers shared by the packages' tests (`@vigil/common/testing`); never imported by program code. */
export { byteMutation, mutateBytes, type ByteMutation } from './fuzz.js';
