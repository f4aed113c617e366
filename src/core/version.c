/* The build's version: `git describe` at build time (this file is recompiled on every build). */
#ifndef GAVEL_VERSION
#define GAVEL_VERSION "dev"
#endif

const char gavel_version[] = GAVEL_VERSION;
