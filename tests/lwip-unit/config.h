/* config.h - lwIP's unit suite includes <config.h> (its build normally
 * generates one); mlwip's build needs nothing in it. */
