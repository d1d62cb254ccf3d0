"""The public site's world: a county agency, a school as purchaser, two bidder companies and a monitor, with
Chinese names, and tenders with Chinese notices made through the services (World.tender) or inserted by the
dozen (bulk_tenders) for the notice list."""

from __future__ import annotations

from datetime import timedelta

from accounts.models import User
from core import clock
from storage.local import LocalBlobStore
from tender import drafting, keyholders
from tender.drafting import FileInput, LotInput, TenderInput
from tender.models import Lot, Tender

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
MAX = 10 * 1024 * 1024
CRITERIA = {
    "qualification": ["营业执照", "近三年无行贿犯罪记录"],
    "compliance": ["投标有效期90天"],
    "price": {"points": 40},
    "factors": [
        {"name": "技术方案", "points": 45, "kind": "subjective"},
        {"name": "售后服务承诺", "points": 15, "kind": "objective"},
    ],
}


class World:
    """An agency, a purchaser, bidders and a monitor, committed as an administrator would have made them."""

    def __init__(self, db, make, settings):
        self.db, self.make, self.settings = db, make, settings
        self.blobs = LocalBlobStore(settings.blob_dir)
        self.agency_org = make.org("agency", name="华信招标代理有限公司")
        self.agency = make.user(self.agency_org, "agency", username="agent")
        self.other_agency = make.user(make.org("agency", name="另一家代理公司"), "agency", username="agent2")
        self.purchaser_org = make.org("purchaser", name="县第一中学")
        self.purchaser = make.user(self.purchaser_org, "purchaser", username="school")
        self.bidder_org = make.org("bidder", name="宏达建设集团有限公司")
        self.bidder = make.user(self.bidder_org, "bidder", username="hongda")
        self.other_bidder_org = make.org("bidder", name="远景科技有限公司")
        self.other_bidder = make.user(self.other_bidder_org, "bidder", username="yuanjing")
        self.monitor = make.user(
            make.org("supervisor", name="县公共资源交易监督管理局"), "monitor", username="watcher"
        )
        db.commit()

    def actor(self, user: User):
        return self.make.actor(user)

    def tender(
        self,
        *,
        publish: bool = True,
        title: str = "县第一中学教学楼改扩建工程",
        documents=(("招标文件.pdf", PDF),),
        **changes,
    ) -> Tender:
        now = clock.now()
        data = TenderInput(
            title=title,
            purchaser_id=self.purchaser_org.id,
            category="works",
            evaluation_method="comprehensive",
            lots=[
                LotInput(
                    name="土建工程",
                    estimated_price=100_000_000,
                    price_ceiling=110_000_000,
                    bid_security=2_000_000,
                ),
                LotInput(
                    name="安装工程",
                    estimated_price=30_000_000,
                    price_ceiling=33_000_000,
                    bid_security=600_000,
                ),
            ],
            description="新建教学楼一栋，建筑面积约8000平方米。",
            region="城关镇",
            criteria=CRITERIA,
            doc_issue_start=now,
            doc_issue_end=now + timedelta(days=7),
            bid_deadline=now + timedelta(days=30),
            opening_place="县公共资源交易中心开标一室",
            # the custody rules (tender.rules.check_key_holders): two organisations, fewer than k from the
            # agency
            key_holder_ids=[self.agency.id, self.monitor.id],
            key_threshold=2,
            contact_name="王工",
            contact_phone="0571-12345678",
        )
        for k, v in changes.items():
            setattr(data, k, v)
        agent = self.actor(self.agency)
        t = drafting.create_tender(self.db, agent, data)
        for name, content in documents:
            drafting.add_document(self.db, agent, self.blobs, t.id, FileInput(name, [content]), MAX)
        if publish:
            keyholders.generate_keys_for(self.db, t)  # publication needs the holders' keys (issue 3)
            drafting.publish(self.db, agent, t.id)
        self.db.commit()
        self.db.refresh(t)
        # loaded now, so reading them later opens no transaction
        assert t.lots and len(t.documents) == len(documents)
        self.db.commit()  # SQLite: end the session's transaction, or the app's writes would wait for it
        return t


def bulk_tenders(db, world: World, n: int, **fields) -> list[Tender]:
    """Published notices inserted directly (list tests need many)."""
    now = clock.now()
    rows = []
    for i in range(n):
        values = {
            "reference": f"ET-TEST-{i:05d}",
            "title": f"测试项目{i:03d}",
            "purchaser_id": world.purchaser_org.id,
            "agency_id": world.agency_org.id,
            "created_by": world.agency.id,
            "category": ("works", "goods", "services")[i % 3],
            "region": ("城关镇", "开发区")[i % 2],
            "status": "published",
            "published_at": now - timedelta(hours=i + 1),
            "doc_issue_start": now - timedelta(hours=i + 1),
            "doc_issue_end": now + timedelta(days=5),
            "bid_deadline": now + timedelta(days=20 + i % 5),
        }
        values.update(fields)
        t = Tender(**values)
        t.lots = [
            Lot(
                number=1,
                name="标段一",
                estimated_price=1_000_000,
                price_ceiling=1_100_000,
                bid_security=20_000,
            )
        ]
        rows.append(t)
    db.add_all(rows)
    db.commit()
    return rows
