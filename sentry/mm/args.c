/* The initial stack's argv/envp area of an address space, for /proc (see mm_set_args). */
#include "sentry/mm/mm.h"
#include "sentry/mm/mm_internal.h"

void mm_set_args(struct mm *mm, const struct mm_args *a)
{
	pthread_rwlock_wrlock(&mm->lock);
	mm->args = *a;
	pthread_rwlock_unlock(&mm->lock);
}

void mm_get_args(struct mm *mm, struct mm_args *out)
{
	pthread_rwlock_rdlock(&mm->lock);
	*out = mm->args;
	pthread_rwlock_unlock(&mm->lock);
}
