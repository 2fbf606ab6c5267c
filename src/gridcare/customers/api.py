"""/api/v1/customers: search, read, create, update (with version)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from gridcare.apidocs import ERROR_RESPONSES
from gridcare.auth.http import PrincipalDep, SessionDep
from gridcare.customers import repository, service
from gridcare.customers.schemas import CustomerCreate, CustomerRead, CustomerUpdate
from gridcare.paging import Page, PageDep, page_of
from gridcare.params import IdPath, IdQuery

router = APIRouter(prefix="/api/v1/customers", tags=["customers 客户"], responses=ERROR_RESPONSES)


@router.get("", response_model=Page[CustomerRead], summary="查找客户（户号、电话、姓名、地址）")
def search_customers(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PageDep,
    q: Annotated[str | None, Query(description="户号或电话（精确）；姓名（前缀）或地址片段")] = None,
    account_no: Annotated[str | None, Query(description="户号")] = None,
    phone: Annotated[str | None, Query(description="联系电话")] = None,
    name: Annotated[str | None, Query(description="客户名称前缀")] = None,
    address: Annotated[str | None, Query(description="用电地址片段")] = None,
    station_id: IdQuery = None,
    transformer_area_id: IdQuery = None,
) -> Page[CustomerRead]:
    rows = repository.search(
        session,
        principal=principal,
        q=q,
        account_no=account_no,
        phone=phone,
        name=name,
        address=address,
        station_id=station_id,
        transformer_area_id=transformer_area_id,
        offset=paging.offset,
        limit=paging.fetch,
    )
    return page_of([service.to_read(r, principal) for r in rows], paging)


@router.get("/{customer_id}", response_model=CustomerRead, summary="客户详情")
def get_customer(customer_id: IdPath, session: SessionDep, principal: PrincipalDep) -> CustomerRead:
    return service.get(session, principal=principal, customer_id=customer_id)


@router.post("", response_model=CustomerRead, status_code=201, summary="新建客户")
def create_customer(data: CustomerCreate, session: SessionDep, principal: PrincipalDep) -> CustomerRead:
    return service.create(session, principal=principal, data=data)


@router.patch("/{customer_id}", response_model=CustomerRead, summary="修改客户（需提供读取时的 version）")
def update_customer(
    customer_id: IdPath, data: CustomerUpdate, session: SessionDep, principal: PrincipalDep
) -> CustomerRead:
    return service.update(session, principal=principal, customer_id=customer_id, data=data)
